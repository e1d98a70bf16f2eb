import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { Loading } from "../../../shared/Loading";
import { SafeHtml } from "../../../shared/SafeHtml";
import { useRendered, useVersion } from "./queries";

interface Props {
  projectId: string;
  documentId: string;
  version: number;
}

/** A version as the server renders it (Markdown as HTML), sanitized once more here. */
export function RenderedView({ projectId, documentId, version }: Props) {
  const rendered = useRendered(projectId, documentId, version);
  if (rendered.isPending) return <Loading label={`Rendering version ${version}`} />;
  if (rendered.isError) return <ErrorView error={rendered.error} retry={() => void rendered.refetch()} />;
  if (rendered.data.html.trim() === "") return <Empty>Version {version} is empty.</Empty>;
  return <SafeHtml html={rendered.data.html} className="rendered" headingsFrom={3} />;
}

/** A version's text as it was saved. */
export function SourceView({ projectId, documentId, version }: Props) {
  const saved = useVersion(projectId, documentId, version);
  if (saved.isPending) return <Loading label={`Loading version ${version}`} />;
  if (saved.isError) return <ErrorView error={saved.error} retry={() => void saved.refetch()} />;
  if (saved.data.content === "") return <Empty>Version {version} is empty.</Empty>;
  return (
    // Focusable: a keyboard can scroll it.
    <pre className="source" tabIndex={0} aria-label={`Source of version ${version}`}>
      {saved.data.content}
    </pre>
  );
}
