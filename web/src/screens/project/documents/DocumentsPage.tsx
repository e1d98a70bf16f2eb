// The project's documents, grouped by gate and then by type: each with its version, who saved
// it last and when; source files (code documents titled by a path) are left to the Code page's
// tree, with a line saying so. Document messages refresh the list (live/cache.ts invalidates it).
import { useQuery } from "@tanstack/react-query";
import { memo, useId, useMemo } from "react";
import { Link } from "react-router";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type ApiClient, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { documentTypeLabel } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { isSourceFile } from "../../../shared/sourcePath";
import { gateTitle, useWorkflow } from "../../../shared/useWorkflow";
import { useTitle } from "../../../shared/useTitle";
import { When } from "../../../shared/When";
import { useAuthorName } from "../document/authors";
import { useCurrentProject } from "../ProjectLayout";
import { groupDocuments, type GateGroup, type TypeGroup } from "./groups";

type Document = Schemas["Document"];
type DocumentList = { documents: Document[] };

/** Every document of the project: the list's pages, one after the other. */
async function listAll(api: ApiClient, projectId: string): Promise<DocumentList> {
  const documents: Document[] = [];
  let pageToken = "";
  do {
    const page = await unwrap(
      api.GET("/api/v1/projects/{projectId}/documents", {
        params: { path: { projectId }, query: { pageSize: 200, ...(pageToken ? { pageToken } : {}) } },
      }),
    );
    documents.push(...page.documents);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { documents };
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function Component() {
  const project = useCurrentProject();
  useTitle(`Documents · ${project.name}`);
  const api = useApi();
  const list = useQuery({
    queryKey: queryKeys.documents(project.id),
    queryFn: () => listAll(api, project.id),
  });
  const workflow = useWorkflow(project.type);
  const authorName = useAuthorName(project.id);
  // Source files are listed as a tree under Code: here they would be hundreds of paths.
  const [sourceFiles, groups] = useMemo(() => {
    const all = list.data?.documents ?? [];
    const documents = all.filter((d) => !isSourceFile(d));
    return [all.length - documents.length, groupDocuments(documents)];
  }, [list.data]);
  return (
    <section aria-labelledby="documents-title">
      <h2 id="documents-title">Documents</h2>
      {list.isPending ? (
        <Loading label="Loading the documents" />
      ) : list.isError ? (
        <ErrorView error={list.error} retry={() => void list.refetch()} />
      ) : (
        <>
          {sourceFiles > 0 ? (
            <p className="notice">
              {sourceFiles === 1 ? "1 source file is" : `${sourceFiles} source files are`} listed under{" "}
              <Link to={`/projects/${project.id}/code`}>Code</Link>, as a tree of folders.
            </p>
          ) : null}
          {groups.length === 0 && sourceFiles === 0 ? (
            <Empty>
              No documents yet: the agents write them as the gates progress. The first, G1&apos;s intake,
              appears once the work on the project starts.
            </Empty>
          ) : (
            groups.map((g) => (
              <GateSection
                key={g.gate}
                group={g}
                title={g.gate === 0 ? "No gate" : gateTitle(workflow.data, g.gate)}
                projectId={project.id}
                authorName={authorName}
              />
            ))
          )}
        </>
      )}
    </section>
  );
}

const GateSection = memo(function GateSection({
  group,
  title,
  projectId,
  authorName,
}: {
  group: GateGroup;
  title: string;
  projectId: string;
  authorName: (author: Schemas["Author"]) => string;
}) {
  const id = useId();
  return (
    <section className="doc-gate" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {group.types.map((t) => (
        <TypeList key={t.type} group={t} projectId={projectId} authorName={authorName} />
      ))}
    </section>
  );
});

function TypeList({
  group,
  projectId,
  authorName,
}: {
  group: TypeGroup;
  projectId: string;
  authorName: (author: Schemas["Author"]) => string;
}) {
  const id = useId();
  return (
    <div className="doc-type">
      <h4 id={id}>{capitalized(documentTypeLabel(group.type))}</h4>
      <ul className="doc-list" aria-labelledby={id}>
        {group.documents.map((d) => (
          <li key={d.id}>
            <Link to={`/projects/${projectId}/documents/${d.id}`}>{d.title}</Link>
            <span className="doc-version">version {d.version}</span>
            <span className="doc-author">{authorName(d.author)}</span>
            <When time={d.updateTime} />
          </li>
        ))}
      </ul>
    </div>
  );
}
