// The project's source tree: the files its agents wrote (code documents titled by their paths) as
// folders and files, each linking to its document. The latest version of every file, the tree a
// gate from G5 on holds (the one its verification builds and tests), or the tree of a hash a
// verification ran (?tree=sha256:…, linked from proofs and verifications), each file at the
// version it had then. Document and deliverable messages refresh it (live/cache.ts).
import { useQuery } from "@tanstack/react-query";
import { useId, useMemo } from "react";
import { useSearchParams } from "react-router";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { formatBytes, shortHash } from "../../../shared/format";
import { Loading } from "../../../shared/Loading";
import { CODE_GATES, isCodeGate } from "../../../shared/sourcePath";
import { gateTitle, useWorkflow } from "../../../shared/useWorkflow";
import { useTitle } from "../../../shared/useTitle";
import { useCurrentProject } from "../ProjectLayout";
import { FileTree } from "./FileTree";
import { buildTree, type SourceFile } from "./tree";

function gateParam(value: string | null): number {
  const n = Number(value);
  return isCodeGate(n) ? n : 0;
}

export function Component() {
  const project = useCurrentProject();
  const projectId = project.id;
  useTitle(`Code · ${project.name}`);
  const api = useApi();
  const workflow = useWorkflow(project.type);
  const [params, setParams] = useSearchParams();
  const treeHash = params.get("tree") ?? "";
  const gate = treeHash ? 0 : gateParam(params.get("gate"));
  const selectId = useId();
  const tree = useQuery({
    queryKey: queryKeys.sourceTree(projectId, treeHash || gate),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/tree", {
          params: { path: { projectId }, query: treeHash ? { treeHash } : gate ? { gate } : {} },
        }),
      ),
  });
  const files = tree.data?.files;
  const roots = useMemo(() => buildTree(files ?? []), [files]);
  // A gate's or a verification's tree is of the versions it recorded: the link opens that version.
  const fileHref = (file: SourceFile) =>
    `/projects/${projectId}/documents/${file.documentId}${gate || treeHash ? `?version=${file.version}` : ""}`;
  const size = (files ?? []).reduce((sum, f) => sum + Number(f.sizeBytes), 0);

  return (
    <section className="code" aria-labelledby="code-title">
      <h2 id="code-title">Code</h2>
      <div className="field code-gate">
        <label htmlFor={selectId}>Files</label>
        <select
          id={selectId}
          value={treeHash ? "tree" : gate}
          onChange={(e) =>
            setParams(
              (p) => {
                const next = new URLSearchParams(p);
                next.delete("tree");
                if (e.target.value === "0") next.delete("gate");
                else next.set("gate", e.target.value);
                return next;
              },
              { replace: true },
            )
          }
        >
          {treeHash ? (
            <option value="tree">The tree {shortHash(treeHash)} as a verification ran it</option>
          ) : null}
          <option value={0}>The latest version of every file</option>
          {CODE_GATES.map((n) => (
            <option key={n} value={n}>
              As {gateTitle(workflow.data, n)} holds them
            </option>
          ))}
        </select>
      </div>
      {tree.isPending ? (
        <Loading label="Loading the source files" />
      ) : tree.isError ? (
        <ErrorView error={tree.error} retry={() => void tree.refetch()} />
      ) : tree.data.files.length === 0 ? (
        <Empty>
          {gate
            ? `${gateTitle(workflow.data, gate)} holds no source files yet: a gate holds the files its developers recorded, and those of the gates before it from G5 on.`
            : "No source files yet: the developers write them from G5 (development) on, each file a code document titled by its path."}
        </Empty>
      ) : (
        <>
          <p className="muted">
            {tree.data.files.length === 1 ? "1 file" : `${tree.data.files.length} files`}, {formatBytes(size)}
            {" · tree "}
            <code className="hash" title={tree.data.treeHash}>
              {shortHash(tree.data.treeHash)}
            </code>
          </p>
          <FileTree label="Source files" roots={roots} fileHref={fileHref} />
        </>
      )}
    </section>
  );
}
