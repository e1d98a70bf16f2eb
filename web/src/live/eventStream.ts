// Reading a text/event-stream response (the socket's fallback): the WHATWG format's event,
// data and id fields, comments ignored. EventSource cannot send the Authorization header, so
// the stream is read from a fetch of the generated client.

export interface StreamEvent {
  /** The event's name: "message" unless the server named it (e.g. "close", "chunk"). */
  event: string;
  data: string;
  id?: string;
}

/** Splits a stream's text into events; feed it chunks as they arrive. */
export class EventStreamParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  push(text: string): StreamEvent[] {
    this.buffer += text;
    const out: StreamEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith("\r\n", end) ? 2 : 1));
      if (line === "") {
        if (this.data.length > 0) {
          const e: StreamEvent = { event: this.event || "message", data: this.data.join("\n") };
          if (this.id !== undefined) e.id = this.id;
          out.push(e);
        }
        this.event = "";
        this.data = [];
        this.id = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") this.event = value;
      else if (field === "data") this.data.push(value);
      else if (field === "id") this.id = value;
    }
    return out;
  }
}

/** Reads the response's body to its end, calling onEvent for each event. */
export async function readEventStream(response: Response, onEvent: (e: StreamEvent) => void): Promise<void> {
  const body = response.body;
  if (!body) return;
  const parser = new EventStreamParser();
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const e of parser.push(value)) onEvent(e);
  }
}
