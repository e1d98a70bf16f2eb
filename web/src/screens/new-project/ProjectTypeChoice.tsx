import { useId } from "react";
import { projectTypes, type ProjectType } from "../../shared/labels";

/** The project type: one radio per type, each with its one-line explanation. */
export function ProjectTypeChoice({
  value,
  onChange,
  error,
}: {
  value: ProjectType;
  onChange: (type: ProjectType) => void;
  error?: string | undefined;
}) {
  const id = useId();
  return (
    <fieldset
      className="type-choice"
      role="radiogroup"
      aria-labelledby={`${id}-legend`}
      {...(error ? { "aria-describedby": `${id}-error`, "aria-invalid": true } : {})}
    >
      <legend id={`${id}-legend`}>Project type</legend>
      {projectTypes.map((t) => (
        <label key={t.value} className={t.value === value ? "option selected" : "option"}>
          <input
            type="radio"
            name="type"
            value={t.value}
            checked={t.value === value}
            onChange={() => onChange(t.value)}
            aria-labelledby={`${id}-${t.value}-label`}
            aria-describedby={`${id}-${t.value}`}
          />
          <span>
            <strong id={`${id}-${t.value}-label`}>{t.label}</strong>
            <small id={`${id}-${t.value}`}>{t.explanation}</small>
          </span>
        </label>
      ))}
      {error ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </fieldset>
  );
}
