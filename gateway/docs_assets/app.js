// Renders the OpenAPI (Swagger 2.0) document as a plain list of operations. Text is inserted with
// textContent only, never as HTML.
(async function () {
  const root = document.getElementById("docs");
  const el = (tag, text) => { const e = document.createElement(tag); if (text) e.textContent = text; return e; };
  const doc = await (await fetch("/api/docs/openapi.json")).json();
  root.replaceChildren(el("h1", doc.info.title + " " + doc.info.version), el("p", doc.info.description || ""));
  const schemaName = (ref) => (ref || "").replace("#/definitions/", "");
  for (const [path, ops] of Object.entries(doc.paths).sort()) {
    for (const [method, op] of Object.entries(ops)) {
      const sec = el("section");
      sec.append(el("h2", method.toUpperCase() + " " + path), el("p", op.summary || ""));
      if (op.description) sec.append(el("p", op.description));
      const auth = op.security && op.security.length === 0 ? "public" : "needs Authorization: Bearer <accessToken>";
      sec.append(el("p", "Access: " + auth));
      for (const p of op.parameters || []) {
        const s = p.schema && p.schema.$ref ? schemaName(p.schema.$ref) : p.type;
        sec.append(el("p", "Parameter " + p.name + " (" + p.in + "): " + (s || "")));
      }
      const ok = op.responses && op.responses["200"];
      if (ok && ok.schema) sec.append(el("p", "Response data: " + schemaName(ok.schema.$ref)));
      root.append(sec);
    }
  }
  const defs = el("section");
  defs.append(el("h2", "Schemas"));
  for (const [name, def] of Object.entries(doc.definitions || {}).sort()) {
    const props = Object.entries(def.properties || {}).map(([k, v]) => k + ": " + (v.type || schemaName(v.$ref) || "object"));
    defs.append(el("h3", name), el("pre", props.join("\n")));
  }
  root.append(defs);
})().catch((e) => { document.getElementById("docs").textContent = "Cannot load the API description: " + e; });
