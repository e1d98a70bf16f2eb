import { useId, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from "react";

interface FrameProps {
  label: string;
  /** The server's (or the form's) complaint about this field. */
  error?: string | undefined;
  /** A line under the field saying what it takes. */
  hint?: string | undefined;
  className?: string | undefined;
}

type ControlProps = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

/** A label, the control, its hint and its error, tied together for screen readers. */
function Field({
  label,
  error,
  hint,
  className,
  control,
}: FrameProps & { control: (p: ControlProps) => ReactNode }) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {control({
        id,
        ...(error ? { "aria-invalid": true as const } : {}),
        ...(describedBy ? { "aria-describedby": describedBy } : {}),
      })}
      {hint ? <small id={`${id}-hint`}>{hint}</small> : null}
      {error ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}

/** A labelled input. */
export function TextField({
  label,
  error,
  hint,
  className,
  ...input
}: FrameProps & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field
      label={label}
      error={error}
      hint={hint}
      className={className}
      control={(p) => <input {...input} {...p} />}
    />
  );
}

/** A labelled textarea. */
export function TextArea({
  label,
  error,
  hint,
  className,
  ...area
}: FrameProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Field
      label={label}
      error={error}
      hint={hint}
      className={className}
      control={(p) => <textarea rows={6} {...area} {...p} />}
    />
  );
}
