import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { useSession } from "../../session/SessionProvider";
import { ErrorView } from "../../shared/ErrorView";
import { fieldError } from "../../shared/errors";
import { PASSWORD_RULES } from "../../shared/password";
import { TextField } from "../../shared/TextField";
import { useTitle } from "../../shared/useTitle";

/** Create account. On success the session is signed in and RedirectIfSignedIn takes the person on (?next=). */
export function Component() {
  useTitle("Create account");
  const session = useSession();
  const location = useLocation();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signUp = useMutation({ mutationFn: () => session.signUp(name.trim(), email.trim(), password) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signUp.mutate();
  };
  return (
    <section className="narrow">
      <h1>Create account</h1>
      <form onSubmit={submit} noValidate>
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fieldError(signUp.error, "name")}
        />
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError(signUp.error, "email")}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={10}
          maxLength={128}
          hint={PASSWORD_RULES}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(signUp.error, "password")}
        />
        {signUp.error ? <ErrorView error={signUp.error} /> : null}
        <button type="submit" className="primary" disabled={signUp.isPending}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/sign-in${location.search}`}>Sign in</Link>
      </p>
    </section>
  );
}
