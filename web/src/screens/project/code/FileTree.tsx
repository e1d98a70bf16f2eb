import { useCallback, useId, useMemo, useRef, useState, type FocusEvent, type KeyboardEvent } from "react";
import { Link } from "react-router";
import { formatBytes } from "../../../shared/format";
import { visibleNodes, type FileNode, type FolderNode, type SourceFile, type TreeNode } from "./tree";

interface Props {
  /** What the tree is, for screen readers: "Source files". */
  label: string;
  roots: readonly TreeNode[];
  /** Where a file's link goes. */
  fileHref: (file: SourceFile) => string;
}

/** What every item of the tree shares. */
interface TreeContext {
  collapsed: ReadonlySet<string>;
  /** The item that takes the tree's one tab stop. */
  tabStop: string | undefined;
  toggle: (key: string) => void;
  fileHref: (file: SourceFile) => string;
}

const fileCount = (n: number) => (n === 1 ? "1 file" : `${n} files`);

/**
 * A source tree as the ARIA tree pattern has it: folders open and close (all start open), one tab
 * stop, arrow keys move between the items shown (Right opens a folder or enters it, Left closes
 * it or goes up to its folder), Home/End, Enter or Space toggles a folder; a file is a link to
 * its document.
 */
export function FileTree({ label, roots, fileHref }: Props) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [focused, setFocused] = useState<string | undefined>();
  const tree = useRef<HTMLUListElement>(null);
  const rows = useMemo(() => visibleNodes(roots, collapsed), [roots, collapsed]);
  // The item last focused, while it is shown; else the first.
  const tabStop = rows.some((r) => r.node.key === focused) ? focused : rows[0]?.node.key;

  const setOpen = useCallback(
    (key: string, open: boolean) =>
      setCollapsed((prev) => {
        if (open !== prev.has(key)) return prev;
        const next = new Set(prev);
        if (open) next.delete(key);
        else next.add(key);
        return next;
      }),
    [],
  );
  const toggle = useCallback((key: string) => setOpen(key, collapsed.has(key)), [collapsed, setOpen]);

  const moveTo = (key: string | undefined) => {
    if (!key) return;
    setFocused(key);
    tree.current?.querySelector<HTMLElement>(`[data-key="${key}"]`)?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const at = rows.findIndex((r) => r.node.key === (e.target as HTMLElement).dataset["key"]);
    const row = rows[at];
    if (!row) return;
    const node = row.node;
    const open = node.kind === "folder" && !collapsed.has(node.key);
    switch (e.key) {
      case "ArrowDown":
        moveTo(rows[at + 1]?.node.key);
        break;
      case "ArrowUp":
        moveTo(rows[at - 1]?.node.key);
        break;
      case "Home":
        moveTo(rows[0]?.node.key);
        break;
      case "End":
        moveTo(rows.at(-1)?.node.key);
        break;
      case "ArrowRight":
        if (node.kind !== "folder") return;
        if (open) moveTo(node.children[0]?.key);
        else setOpen(node.key, true);
        break;
      case "ArrowLeft":
        if (open) setOpen(node.key, false);
        else moveTo(row.parent);
        break;
      case "Enter":
      case " ":
        // A file is a link: Enter follows it.
        if (node.kind !== "folder") return;
        toggle(node.key);
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  // Clicks focus items too: the tab stop follows whatever took the focus.
  const onFocus = (e: FocusEvent<HTMLUListElement>) => {
    const key = (e.target as HTMLElement).dataset["key"];
    if (key) setFocused(key);
  };

  const context: TreeContext = { collapsed, tabStop, toggle, fileHref };
  return (
    <ul
      role="tree"
      aria-label={label}
      className="file-tree"
      ref={tree}
      onKeyDown={onKeyDown}
      onFocus={onFocus}
    >
      <Items nodes={roots} context={context} />
    </ul>
  );
}

function Items({ nodes, context }: { nodes: readonly TreeNode[]; context: TreeContext }) {
  return nodes.map((node) =>
    node.kind === "folder" ? (
      <FolderItem key={node.key} node={node} context={context} />
    ) : (
      <FileItem key={node.key} node={node} context={context} />
    ),
  );
}

// The group of a folder's items is its treeitem's sibling, owned through aria-owns, so the
// treeitem's visible text is its name alone; aria-label says the name, since a name computed
// from content would take in the owned items too.
function FolderItem({ node, context }: { node: FolderNode; context: TreeContext }) {
  const id = useId();
  const open = !context.collapsed.has(node.key);
  return (
    <li role="none">
      {/* The pointer's way to toggle; the keyboard's is on the tree. */}
      <div className="tree-row" onClick={() => context.toggle(node.key)}>
        <span
          role="treeitem"
          aria-label={node.name}
          aria-expanded={open}
          aria-owns={open ? `${id}-group` : undefined}
          aria-describedby={`${id}-facts`}
          tabIndex={context.tabStop === node.key ? 0 : -1}
          data-key={node.key}
          className="tree-folder"
        >
          <span className="tree-twisty" aria-hidden="true">
            {open ? "▾" : "▸"}
          </span>
          {node.name}
          <span aria-hidden="true">/</span>
        </span>
        <span id={`${id}-facts`} className="tree-facts">
          {fileCount(node.fileCount)}, {formatBytes(node.sizeBytes)}
        </span>
      </div>
      {open ? (
        <ul role="group" id={`${id}-group`}>
          <Items nodes={node.children} context={context} />
        </ul>
      ) : null}
    </li>
  );
}

function FileItem({ node, context }: { node: FileNode; context: TreeContext }) {
  const id = useId();
  const { file } = node;
  return (
    <li role="none" className="tree-row">
      <Link
        role="treeitem"
        to={context.fileHref(file)}
        tabIndex={context.tabStop === node.key ? 0 : -1}
        data-key={node.key}
        aria-describedby={id}
      >
        <span className="tree-twisty" aria-hidden="true" />
        {node.name}
      </Link>
      <span id={id} className="tree-facts">
        {formatBytes(file.sizeBytes)}, version {file.version}
      </span>
    </li>
  );
}
