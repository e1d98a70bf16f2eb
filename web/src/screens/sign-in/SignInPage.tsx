import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { useSession } from "../../session/SessionProvider";
import { ErrorView } from "../../shared/ErrorView";
import { fieldError } from "../../shared/errors";
import { TextField } from "../../shared/TextField";
import { useTitle } from "../../shared/useTitle";

export function Component() {
  useTitle("Sign in");
  const session = useSession();
  const location = useLocation();
  const reason = (location.state as { reason?: string } | null)?.reason;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useMutation({ mutationFn: () => session.signIn(email, password) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate();
  };
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      {reason ? <p role="status">{reason}</p> : null}
      <form onSubmit={submit} noValidate>
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError(signIn.error, "email")}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(signIn.error, "password")}
        />
        {signIn.error ? <ErrorView error={signIn.error} /> : null}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          Sign in
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link> · New here?{" "}
        <Link to={`/sign-up${location.search}`}>Create an account</Link>
      </p>
    </section>
  );
}
