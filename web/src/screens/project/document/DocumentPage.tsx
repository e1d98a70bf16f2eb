// One document: rendered or as source, any version of its history, any two versions compared,
// and (for editors and owners) an editor whose save is based on a version. When someone saved
// first, the server refuses the save (409) and the person sees both and decides; a version
// saved while the page is open is announced, never swapped in under the reader or the draft.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { queryKeys } from "../../../api/queryKeys";
import { ErrorView } from "../../../shared/ErrorView";
import { isNotFound } from "../../../shared/errors";
import { canEdit } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { gateTitle, useWorkflow } from "../../../shared/useWorkflow";
import { useTitle } from "../../../shared/useTitle";
import { When } from "../../../shared/When";
import { useCurrentProject, type Project } from "../ProjectLayout";
import { useAuthorName } from "./authors";
import { CompareView } from "./CompareView";
import { ConflictPanel } from "./ConflictPanel";
import { DocumentMeta } from "./DocumentMeta";
import { isDirty, startDraft, type Draft } from "./draft";
import { Editor } from "./Editor";
import { HistoryView } from "./HistoryView";
import {
  rememberVersion,
  staleSave,
  useFetchLatest,
  useLatestDocument,
  useSaveCall,
  useVersion,
  type LatestDocument,
  type SaveAnswer,
} from "./queries";
import { RenderedView, SourceView } from "./RenderedView";
import { Tabs } from "./Tabs";

export function Component() {
  const { projectId = "", documentId = "" } = useParams();
  const project = useCurrentProject();
  const latest = useLatestDocument(projectId, documentId);
  useTitle(latest.data ? `${latest.data.document.title} · ${project.name}` : "Document");
  if (latest.isPending) return <Loading label="Loading the document" />;
  if (latest.isError) {
    if (isNotFound(latest.error))
      return (
        <section>
          <h2>Document not found</h2>
          <p>
            This project has no such document.{" "}
            <Link to={`/projects/${projectId}/documents`}>All documents</Link>
          </p>
        </section>
      );
    return <ErrorView error={latest.error} retry={() => void latest.refetch()} />;
  }
  return <DocumentScreen key={documentId} project={project} latest={latest.data} />;
}

type TabKey = "rendered" | "source" | "history" | "compare" | "edit";
const viewTabs: { key: TabKey; label: string }[] = [
  { key: "rendered", label: "Rendered" },
  { key: "source", label: "Source" },
  { key: "history", label: "History" },
  { key: "compare", label: "Compare" },
];
const editorTabs: { key: TabKey; label: string }[] = [...viewTabs, { key: "edit", label: "Edit" }];

function positive(value: string | null): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** What the page says after a save: the new version, and whether it counts as the gate's deliverable. */
function savedNotice(answer: SaveAnswer): string {
  const { document, outcome, deliverable } = answer;
  if (outcome === "SAVE_OUTCOME_UNCHANGED")
    return `Nothing saved: your draft is the same as version ${document.version}.`;
  let notice = `Saved as version ${document.version}.`;
  if (deliverable?.recorded) notice += ` Recorded as G${deliverable.gate}'s deliverable.`;
  else if (deliverable?.reason)
    notice += ` Not recorded as G${deliverable.gate}'s deliverable: ${deliverable.reason}.`;
  return notice;
}

interface Selection {
  tab?: TabKey;
  /** The version on view; null: the latest one seen. */
  version?: number | null;
  from?: number;
  to?: number;
}

function DocumentScreen({ project, latest }: { project: Project; latest: LatestDocument }) {
  const doc = latest.document;
  const projectId = project.id;
  const documentId = doc.id;
  const editable = canEdit(project.role);
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  // The latest version the person has loaded: a newer one is announced, not swapped in.
  const [seen, setSeen] = useState(doc.version);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const tabs = editable ? editorTabs : viewTabs;
  const tab = tabs.find((t) => t.key === params.get("tab"))?.key ?? "rendered";
  const shownNumber = positive(params.get("version")) ?? seen;
  const compareTo = Math.min(positive(params.get("to")) ?? doc.version, doc.version);
  const compareFrom = Math.min(positive(params.get("from")) ?? Math.max(1, doc.version - 1), doc.version);
  // Opened at ?tab=edit: the draft starts from the latest version (made state on its first change).
  const activeDraft = draft ?? (tab === "edit" && editable ? startDraft(doc.version, latest.content) : null);

  const authorName = useAuthorName(projectId);
  const workflow = useWorkflow(project.type);
  const shown = useVersion(projectId, documentId, shownNumber);

  const select = useCallback(
    (next: Selection) => {
      setNotice(null);
      setParams(
        (p) => {
          const q = new URLSearchParams(p);
          const set = (key: string, value: string | number | null | undefined) => {
            if (value === undefined) return;
            if (value === null || value === "rendered") q.delete(key);
            else q.set(key, String(value));
          };
          set("tab", next.tab);
          set("version", next.version);
          set("from", next.from);
          set("to", next.to);
          return q;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  const onSelectTab = (key: TabKey) => {
    if (key === "edit" && !draft) setDraft(startDraft(doc.version, latest.content));
    select({ tab: key });
  };

  // A draft with changes in it is not lost to a closed tab without a warning.
  const dirty = isDirty(activeDraft);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const saveCall = useSaveCall(projectId, documentId);
  const fetchLatest = useFetchLatest(projectId, documentId);
  const save = useMutation({
    mutationFn: saveCall,
    onSuccess: (answer, request) => {
      rememberVersion(queryClient, projectId, answer.document, request.content);
      queryClient.setQueryData<LatestDocument>(queryKeys.document(projectId, documentId), {
        document: answer.document,
        content: request.content,
      });
      void queryClient.invalidateQueries({ queryKey: queryKeys.documents(projectId), exact: true });
      void queryClient.invalidateQueries({ queryKey: queryKeys.documentVersions(projectId, documentId) });
      setSeen(answer.document.version);
      setDraft(null);
      select({ tab: "rendered", version: null });
      setNotice(savedNotice(answer));
    },
    onError: async (error) => {
      const newer = staleSave(error);
      if (newer === null) return;
      // Someone saved first: learn the latest (the banner and the list follow), keep the draft.
      const current = await fetchLatest().catch(() => undefined);
      const version = Math.max(newer, current?.document.version ?? 0);
      if (version > 0) setDraft((d) => (d ? { ...d, conflict: { version, refused: true } } : d));
    },
  });
  const saveError = save.error && staleSave(save.error) === null ? save.error : null;

  const editDraft = (change: Partial<Pick<Draft, "content" | "changeNote">>) => {
    if (activeDraft) setDraft({ ...activeDraft, ...change });
  };
  const saveDraft = (d: Draft, baseVersion: number) =>
    save.mutate({ content: d.content, changeNote: d.changeNote, baseVersion });
  const discardDraft = (showVersion: number) => {
    save.reset();
    setDraft(null);
    setSeen(showVersion);
    select({ tab: "rendered", version: null });
  };

  // A version newer than the one the page (or the draft) is based on was saved meanwhile.
  const basedOn = activeDraft ? (activeDraft.conflict?.version ?? activeDraft.base) : seen;
  const newer = doc.version > basedOn ? doc.version : null;
  const onLoadLatest = () => {
    setSeen(doc.version);
    select({ version: null });
  };
  const onLoadNewer = () => {
    if (activeDraft) {
      setDraft({ ...activeDraft, conflict: { version: doc.version, refused: false } });
      select({ tab: "edit" });
    } else onLoadLatest();
  };

  let panel;
  switch (tab) {
    case "rendered":
      panel = <RenderedView projectId={projectId} documentId={documentId} version={shownNumber} />;
      break;
    case "source":
      panel = <SourceView projectId={projectId} documentId={documentId} version={shownNumber} />;
      break;
    case "history":
      panel = (
        <HistoryView
          projectId={projectId}
          documentId={documentId}
          shownNumber={shownNumber}
          authorName={authorName}
          onView={(version) => select({ tab: "rendered", version })}
          onCompare={(from, to) => select({ tab: "compare", from, to })}
        />
      );
      break;
    case "compare":
      panel = (
        <CompareView
          projectId={projectId}
          documentId={documentId}
          latest={doc.version}
          from={compareFrom}
          to={compareTo}
          onChange={(from, to) => select({ from, to })}
        />
      );
      break;
    case "edit":
      panel = !activeDraft ? null : activeDraft.conflict ? (
        <ConflictPanel
          projectId={projectId}
          documentId={documentId}
          draft={activeDraft}
          conflict={activeDraft.conflict}
          authorName={authorName}
          saving={save.isPending}
          onKeepMine={() => {
            const base = activeDraft.conflict?.version ?? activeDraft.base;
            setDraft({ ...activeDraft, base });
            saveDraft(activeDraft, base);
          }}
          onUseTheirs={() => {
            discardDraft(Math.max(doc.version, activeDraft.conflict?.version ?? 0));
            setNotice("Your draft was discarded: the saved version stands.");
          }}
          onKeepEditing={() => {
            const version = activeDraft.conflict?.version ?? activeDraft.base;
            save.reset();
            setDraft({ ...activeDraft, base: version, conflict: null, merging: version });
          }}
        />
      ) : (
        <Editor
          projectId={projectId}
          documentId={documentId}
          draft={activeDraft}
          onChange={editDraft}
          onSave={() => saveDraft(activeDraft, activeDraft.base)}
          onDiscard={() => discardDraft(doc.version)}
          saving={save.isPending}
          error={saveError}
        />
      );
      break;
  }

  return (
    <article className="document" aria-labelledby="document-title">
      <p className="breadcrumb">
        <Link to={`/projects/${projectId}/documents`}>Documents</Link>
      </p>
      <h2 id="document-title">{doc.title}</h2>
      <DocumentMeta
        document={doc}
        shown={shown.data?.version}
        shownNumber={shownNumber}
        gateTitle={gateTitle(workflow.data, doc.gate)}
        authorName={authorName}
      />
      <div role="status" className="doc-status">
        {newer !== null ? (
          <div className="notice newer-version">
            A newer version was saved: version {newer}, by {authorName(doc.author)}{" "}
            <When time={doc.updateTime} />.{" "}
            {activeDraft
              ? "Your draft is kept: compare it with the newer version before saving."
              : "The page still shows the version you were reading."}{" "}
            <button type="button" onClick={onLoadNewer}>
              {activeDraft ? "Compare with my draft" : "Load the newer version"}
            </button>
          </div>
        ) : null}
        {notice ? <p className="notice">{notice}</p> : null}
      </div>
      {activeDraft && tab !== "edit" ? (
        <p className="notice">
          You have an unsaved draft based on version {activeDraft.base}.{" "}
          <button type="button" className="link" onClick={() => select({ tab: "edit" })}>
            Back to your draft
          </button>
        </p>
      ) : null}
      {tab !== "edit" && shownNumber !== doc.version && newer === null ? (
        <p className="notice">
          You are viewing version {shownNumber}; the latest is version {doc.version}.{" "}
          <button type="button" className="link" onClick={onLoadLatest}>
            Show the latest version
          </button>
        </p>
      ) : null}
      <Tabs label="Document views" tabs={tabs} selected={tab} onSelect={onSelectTab}>
        {panel}
      </Tabs>
    </article>
  );
}
