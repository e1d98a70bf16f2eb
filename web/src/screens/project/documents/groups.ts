// The documents list's shape: by gate (G1 to G9, then those of no gate), then by type in the
// order the workflow produces them, then by title.
import type { Schemas } from "../../../api/client";

type Document = Schemas["Document"];
type DocumentType = Schemas["DocumentType"];

const typeOrder: DocumentType[] = [
  "DOCUMENT_TYPE_INTAKE",
  "DOCUMENT_TYPE_REQUIREMENTS",
  "DOCUMENT_TYPE_USER_STORY",
  "DOCUMENT_TYPE_ARCHITECTURE",
  "DOCUMENT_TYPE_API_SPEC",
  "DOCUMENT_TYPE_DATABASE_SCHEMA",
  "DOCUMENT_TYPE_DESIGN",
  "DOCUMENT_TYPE_CODE",
  "DOCUMENT_TYPE_TEST_PLAN",
  "DOCUMENT_TYPE_SECURITY_AUDIT",
  "DOCUMENT_TYPE_DEPLOYMENT_GUIDE",
  "DOCUMENT_TYPE_RUNBOOK",
  "DOCUMENT_TYPE_OTHER",
  "DOCUMENT_TYPE_UNSPECIFIED",
];

export interface TypeGroup {
  type: DocumentType;
  documents: Document[];
}

export interface GateGroup {
  /** 1-9, or 0 for documents of no gate. */
  gate: number;
  types: TypeGroup[];
}

const rank = (type: DocumentType) => {
  const i = typeOrder.indexOf(type);
  return i < 0 ? typeOrder.length : i;
};

/** Documents grouped by gate, then type; gates ascending (no gate last), titles alphabetical. */
export function groupDocuments(documents: readonly Document[]): GateGroup[] {
  const byGate = new Map<number, Map<DocumentType, Document[]>>();
  for (const d of documents) {
    const gate = d.gate >= 1 && d.gate <= 9 ? d.gate : 0;
    const types = byGate.get(gate) ?? new Map<DocumentType, Document[]>();
    byGate.set(gate, types);
    const list = types.get(d.type) ?? [];
    types.set(d.type, list);
    list.push(d);
  }
  return [...byGate.entries()]
    .sort(([a], [b]) => (a === 0 ? 10 : a) - (b === 0 ? 10 : b))
    .map(([gate, types]) => ({
      gate,
      types: [...types.entries()]
        .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
        .map(([type, docs]) => ({
          type,
          documents: docs.sort((x, y) => x.title.localeCompare(y.title, undefined, { sensitivity: "base" })),
        })),
    }));
}
