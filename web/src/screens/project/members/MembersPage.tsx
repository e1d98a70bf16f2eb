// The project's members. Everyone sees the list; the owner adds members by email, changes their
// roles and removes them (after a confirmation).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { useUser } from "../../../session/SessionProvider";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { errorMessage, fieldError } from "../../../shared/errors";
import { isOwner, roleLabel } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { TextField } from "../../../shared/TextField";
import { useTitle } from "../../../shared/useTitle";
import { When } from "../../../shared/When";
import { useCurrentProject } from "../ProjectLayout";
import { assignableRoles, useMembers, type Member, type MemberList } from "./members";

type Role = Schemas["Role"];

export function Component() {
  const project = useCurrentProject();
  useTitle(`Members · ${project.name}`);
  const members = useMembers(project.id);
  const owner = isOwner(project.role);
  const me = useUser();

  let body;
  if (members.isPending) body = <Loading label="Loading the members" />;
  else if (members.isError) body = <ErrorView error={members.error} retry={() => void members.refetch()} />;
  else if (members.data.members.length === 0) body = <Empty>No members: the owner adds them by email.</Empty>;
  else
    body = (
      <table>
        <caption className="visually-hidden">The project's members and their roles</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
            {owner ? <th scope="col">Remove</th> : null}
          </tr>
        </thead>
        <tbody>
          {members.data.members.map((m) => (
            <MemberRow
              key={m.userId}
              projectId={project.id}
              member={m}
              owner={owner}
              me={m.userId === me.id}
            />
          ))}
        </tbody>
      </table>
    );
  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      {owner ? null : (
        <p className="muted">Only the project's owner adds members, changes their roles or removes them.</p>
      )}
      {body}
      {owner ? <AddMember projectId={project.id} /> : null}
    </section>
  );
}

function useMembersCache(projectId: string) {
  const queryClient = useQueryClient();
  return (change: (members: Member[]) => Member[]) =>
    queryClient.setQueryData<MemberList>(queryKeys.members(projectId), (data) =>
      data ? { ...data, members: change(data.members) } : data,
    );
}

function MemberRow(props: { projectId: string; member: Member; owner: boolean; me: boolean }) {
  const { member, owner } = props;
  const name = member.name || member.email;
  const manageable = owner && member.role !== "ROLE_OWNER";
  return (
    <tr>
      <th scope="row">
        {name}
        {props.me ? <span className="muted"> (you)</span> : null}
      </th>
      <td>{member.email}</td>
      <td>
        {manageable ? (
          <RoleSelect projectId={props.projectId} member={member} name={name} />
        ) : (
          roleLabel(member.role)
        )}
      </td>
      <td>
        <When time={member.createTime} />
      </td>
      {owner ? (
        <td>
          {manageable ? <RemoveMember projectId={props.projectId} member={member} name={name} /> : null}
        </td>
      ) : null}
    </tr>
  );
}

function RoleSelect({ projectId, member, name }: { projectId: string; member: Member; name: string }) {
  const api = useApi();
  const update = useMembersCache(projectId);
  const change = useMutation({
    mutationFn: (role: Role) =>
      unwrap(
        api.PATCH("/api/v1/projects/{projectId}/members/{userId}", {
          params: { path: { projectId, userId: member.userId } },
          body: { role },
        }),
      ),
    onSuccess: ({ member: changed }) =>
      update((ms) => ms.map((m) => (m.userId === changed.userId ? changed : m))),
  });
  const value = change.isPending ? change.variables : member.role;
  return (
    <>
      <select
        aria-label={`Role of ${name}`}
        value={value}
        disabled={change.isPending}
        onChange={(e) => change.mutate(e.target.value as Role)}
      >
        {assignableRoles.some((r) => r.value === value) ? null : (
          <option value={value}>{roleLabel(value)}</option>
        )}
        {assignableRoles.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
      </select>
      {change.isError ? (
        <span className="field-error" role="alert">
          Could not change {name}'s role: {errorMessage(change.error)}
        </span>
      ) : null}
    </>
  );
}

function RemoveMember({ projectId, member, name }: { projectId: string; member: Member; name: string }) {
  const api = useApi();
  const update = useMembersCache(projectId);
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const askRef = useRef<HTMLButtonElement>(null);
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/projects/{projectId}/members/{userId}", {
          params: { path: { projectId, userId: member.userId } },
        }),
      ),
    onSuccess: () => update((ms) => ms.filter((m) => m.userId !== member.userId)),
  });
  // Focus follows the step: to the confirmation when it opens, back to the button when cancelled.
  const [moved, setMoved] = useState(false);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (moved) askRef.current?.focus();
  }, [confirming, moved]);
  if (!confirming)
    return (
      <button
        ref={askRef}
        type="button"
        className="danger"
        onClick={() => {
          setMoved(true);
          setConfirming(true);
        }}
      >
        Remove {name}
      </button>
    );
  return (
    <div className="member-confirm" role="group" aria-label={`Confirm removing ${name}`}>
      <span>Remove {name} from the project? They lose access at once.</span>{" "}
      <button
        ref={confirmRef}
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate()}
      >
        Yes, remove {name}
      </button>{" "}
      <button type="button" disabled={remove.isPending} onClick={() => setConfirming(false)}>
        Cancel
      </button>
      {remove.isError ? (
        <p className="field-error" role="alert">
          Could not remove {name}: {errorMessage(remove.error)}
        </p>
      ) : null}
    </div>
  );
}

function AddMember({ projectId }: { projectId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const roleId = useId();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("ROLE_VIEWER");
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/members", {
          params: { path: { projectId } },
          body: { email, role },
        }),
      ),
    onSuccess: ({ member }) => {
      queryClient.setQueryData<MemberList>(queryKeys.members(projectId), (data) =>
        data && !data.members.some((m) => m.userId === member.userId)
          ? { ...data, members: [...data.members, member] }
          : data,
      );
      setEmail("");
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const roleError = fieldError(add.error, "role");
  const emailError = fieldError(add.error, "email");
  return (
    <form onSubmit={submit} noValidate className="panel add-member" aria-labelledby="add-member-heading">
      <h3 id="add-member-heading">Add a member</h3>
      <p className="muted">They need a FuzzyLlama account: add them by the email they signed up with.</p>
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="off"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={emailError}
      />
      <div className="field">
        <label htmlFor={roleId}>Role</label>
        <select
          id={roleId}
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          aria-describedby={`${roleId}-hint${roleError ? ` ${roleId}-error` : ""}`}
          {...(roleError ? { "aria-invalid": true } : {})}
        >
          {assignableRoles.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
        <small id={`${roleId}-hint`}>
          {assignableRoles.map((r) => `${r.label}: ${r.explanation}`).join("; ")}.
        </small>
        {roleError ? (
          <small id={`${roleId}-error`} className="field-error">
            {roleError}
          </small>
        ) : null}
      </div>
      {add.isError && !emailError && !roleError ? <ErrorView error={add.error} /> : null}
      {add.isSuccess ? (
        <p role="status">
          {add.data.member.name || add.data.member.email} is now a {roleLabel(add.data.member.role)} of the
          project.
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add member
        </button>
      </div>
    </form>
  );
}
