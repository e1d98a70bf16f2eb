import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap } from "../../api/client";
import { ErrorView } from "../../shared/ErrorView";
import { fieldError } from "../../shared/errors";
import { TextField } from "../../shared/TextField";
import { useTitle } from "../../shared/useTitle";

/**
 * Forgot password: asks for a reset link. The server answers the same whether or not the email
 * has an account (so nobody learns who has one); that answer is what the person reads.
 */
export function Component() {
  useTitle("Forgot password");
  const api = useApi();
  const [email, setEmail] = useState("");
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/forgot-password", { body: { email: email.trim() } })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate();
  };
  return (
    <section className="narrow">
      <h1>Forgot password</h1>
      {send.isSuccess ? (
        <p className="notice" role="status">
          {send.data.message}
        </p>
      ) : (
        <>
          <p>Enter the email of your account: we send it a link to choose a new password.</p>
          <form onSubmit={submit} noValidate>
            <TextField
              label="Email"
              type="email"
              name="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={fieldError(send.error, "email")}
            />
            {send.error ? <ErrorView error={send.error} /> : null}
            <button type="submit" className="primary" disabled={send.isPending}>
              Send reset link
            </button>
          </form>
        </>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </section>
  );
}
