// A source tree's files (a flat list of paths) as folders and files, and the order in which the
// tree shows them: in each folder its folders first, then its files, each alphabetical.
import type { Schemas } from "../../../api/client";

export type SourceFile = Schemas["SourceFile"];

export interface FileNode {
  kind: "file";
  /** Unique in the tree: "file:" and the path. */
  key: string;
  name: string;
  file: SourceFile;
}

export interface FolderNode {
  kind: "folder";
  /** Unique in the tree: "folder:" and the path. */
  key: string;
  name: string;
  path: string;
  children: TreeNode[];
  /** The files under it, at any depth, and their bytes. */
  fileCount: number;
  sizeBytes: number;
}

export type TreeNode = FileNode | FolderNode;

const byName = (a: TreeNode, b: TreeNode) =>
  a.kind !== b.kind
    ? a.kind === "folder"
      ? -1
      : 1
    : a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) || a.name.localeCompare(b.name);

/** The tree's top level: folders made from the files' paths, sorted, with their sizes summed. */
export function buildTree(files: readonly SourceFile[]): TreeNode[] {
  const root: FolderNode = folder("", "");
  for (const file of files) {
    const segments = file.path.split("/");
    const name = segments.pop() ?? file.path;
    let parent = root;
    for (const segment of segments) {
      const path = parent.path ? `${parent.path}/${segment}` : segment;
      let next = parent.children.find((c): c is FolderNode => c.kind === "folder" && c.name === segment);
      if (!next) {
        next = folder(segment, path);
        parent.children.push(next);
      }
      parent = next;
    }
    parent.children.push({ kind: "file", key: `file:${file.path}`, name, file });
  }
  total(root);
  return root.children;
}

function folder(name: string, path: string): FolderNode {
  return { kind: "folder", key: `folder:${path}`, name, path, children: [], fileCount: 0, sizeBytes: 0 };
}

function total(node: FolderNode): void {
  node.children.sort(byName);
  for (const child of node.children) {
    if (child.kind === "folder") {
      total(child);
      node.fileCount += child.fileCount;
      node.sizeBytes += child.sizeBytes;
    } else {
      node.fileCount += 1;
      node.sizeBytes += Number(child.file.sizeBytes);
    }
  }
}

/** One row the tree shows: a node, its depth (1 at the top) and its folder's key. */
export interface VisibleNode {
  node: TreeNode;
  level: number;
  parent: string | undefined;
}

/** The rows shown, top to bottom: every node whose folders are all open. */
export function visibleNodes(roots: readonly TreeNode[], collapsed: ReadonlySet<string>): VisibleNode[] {
  const rows: VisibleNode[] = [];
  const walk = (nodes: readonly TreeNode[], level: number, parent: string | undefined) => {
    for (const node of nodes) {
      rows.push({ node, level, parent });
      if (node.kind === "folder" && !collapsed.has(node.key)) walk(node.children, level + 1, node.key);
    }
  };
  walk(roots, 1, undefined);
  return rows;
}
