// A run's output written into a <pre> without React: chunks are appended as text nodes, at most
// once a frame, so a 500 KB stream never re-renders (or re-parses) what is already shown.
//
// A chunk is known by its attempt and seq (from 1 within an attempt). A watch that starts again
// (after a reconnect) sends the current attempt from the start: what was already appended is
// skipped. A new attempt starts over: the log is cleared.

export interface Chunk {
  attempt: number;
  /** An int64 as a string, counting from 1 (0 tolerated) within the attempt. */
  seq: string;
  text: string;
}

type Schedule = (flush: () => void) => void;

const defaultSchedule: Schedule = (flush) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
  else setTimeout(flush, 16);
};

/** Within this many pixels of the end, the log follows new output. */
const STICK_PX = 24;

export class OutputLog {
  private attempt = 0;
  private lastSeq = -1;
  private pending: string[] = [];
  private scheduled = false;
  private length = 0;

  constructor(
    private readonly pre: HTMLElement,
    /** Told once the log has text (and again with false when it is cleared). */
    private readonly onHasText: (has: boolean) => void = () => {},
    private readonly schedule: Schedule = defaultSchedule,
  ) {}

  /** The attempt shown. */
  get currentAttempt(): number {
    return this.attempt;
  }

  /** A run message: a later attempt than the one shown starts the log over. */
  startAttempt(attempt: number): void {
    if (attempt > this.attempt) this.reset(attempt);
  }

  /** Appends a chunk, unless it is of an earlier attempt or was appended already. */
  push(chunk: Chunk): void {
    if (chunk.attempt < this.attempt) return;
    if (chunk.attempt > this.attempt) this.reset(chunk.attempt);
    const seq = Number(chunk.seq);
    if (!(seq > this.lastSeq)) return;
    this.lastSeq = seq;
    if (chunk.text === "") return;
    this.pending.push(chunk.text);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Shows text as the whole output (a finished run's stored output), unless it is already shown. */
  replace(text: string): void {
    this.flush();
    if (this.length === text.length && this.pre.textContent === text) return;
    this.pending = [];
    const pre = this.pre;
    const follow = this.length > 0 && pre.scrollHeight - pre.scrollTop - pre.clientHeight <= STICK_PX;
    pre.textContent = text;
    this.length = text.length;
    if (follow) pre.scrollTop = pre.scrollHeight;
    this.onHasText(text.length > 0);
  }

  /** Writes what is pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    const pre = this.pre;
    const follow = pre.scrollHeight - pre.scrollTop - pre.clientHeight <= STICK_PX;
    const had = this.length > 0;
    pre.appendChild(pre.ownerDocument.createTextNode(text));
    this.length += text.length;
    if (follow) pre.scrollTop = pre.scrollHeight;
    if (!had) this.onHasText(true);
  }

  private reset(attempt: number): void {
    const had = this.length > 0;
    this.attempt = attempt;
    this.lastSeq = -1;
    this.pending = [];
    this.pre.textContent = "";
    this.length = 0;
    if (had) this.onHasText(false);
  }
}
