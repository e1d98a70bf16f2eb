import { useMutation } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/SessionProvider";
import { ErrorView } from "../../shared/ErrorView";
import { fieldError } from "../../shared/errors";
import { PASSWORD_RULES } from "../../shared/password";
import { TextField } from "../../shared/TextField";
import { useTitle } from "../../shared/useTitle";

/**
 * Reset password: the page the reset mail links to (<FRONTEND_URL>/reset-password?token=…). A new
 * password ends every session of the account, so this tab signs out too.
 */
export function Component() {
  useTitle("Reset password");
  const [params, setParams] = useSearchParams();
  // Kept here, and taken out of the address bar (and so the history) once read.
  const [token] = useState(() => params.get("token") ?? "");
  useEffect(() => {
    if (params.has("token")) setParams({}, { replace: true });
  }, [params, setParams]);
  return (
    <section className="narrow">
      <h1>Reset password</h1>
      {token ? (
        <ResetForm token={token} />
      ) : (
        <p className="error" role="alert">
          This link has no reset token: open the link from the mail exactly as it is, or{" "}
          <Link to="/forgot-password">ask for a new reset link</Link>.
        </p>
      )}
    </section>
  );
}

function ResetForm({ token }: { token: string }) {
  const api = useApi();
  const session = useSession();
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/auth/reset-password", { body: { token, newPassword: password } })),
    onSuccess: () => {
      // Every session of the account has ended on the server; forget this tab's too.
      if (session.getState().status === "signedIn") void session.signOut().catch(() => undefined);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const differ = password !== repeat;
    setMismatch(differ);
    if (!differ) reset.mutate();
  };
  if (reset.isSuccess) {
    return (
      <div className="notice" role="status">
        <p>Your password is changed. Every session of your account has ended, on every device.</p>
        <p>
          <Link to="/sign-in">Sign in</Link> with your new password.
        </p>
      </div>
    );
  }
  const tokenError = fieldError(reset.error, "token");
  if (tokenError) {
    return (
      <div className="error" role="alert">
        <p>This reset link cannot be used: it {tokenError}.</p>
        <p>
          Links work once, for one hour. <Link to="/forgot-password">Ask for a new reset link</Link>.
        </p>
      </div>
    );
  }
  return (
    <form onSubmit={submit} noValidate>
      <TextField
        label="New password"
        type="password"
        name="newPassword"
        autoComplete="new-password"
        required
        minLength={10}
        maxLength={128}
        hint={PASSWORD_RULES}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldError(reset.error, "newPassword")}
      />
      <TextField
        label="Repeat password"
        type="password"
        name="repeatPassword"
        autoComplete="new-password"
        required
        value={repeat}
        onChange={(e) => {
          setRepeat(e.target.value);
          setMismatch(false);
        }}
        error={mismatch ? "does not match the new password" : undefined}
      />
      {reset.error ? <ErrorView error={reset.error} /> : null}
      <button type="submit" className="primary" disabled={reset.isPending}>
        Reset password
      </button>
    </form>
  );
}
