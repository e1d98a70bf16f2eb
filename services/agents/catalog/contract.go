package catalog

// OutputContract is the part of every system prompt that tells the model how to format its
// answer. A program reads the answer (package output parses exactly this format), so the rules
// are strict and the limits are the parser's.
const OutputContract = `## Output format (mandatory)

A program reads your answer. Format it exactly like this, with nothing that matters outside the blocks:

<document type="requirements" title="Product Requirements Document">
...the whole document...
</document>
<handoff>
{"deliverables": ["requirements"], "nextRoles": ["architect"], "notes": "Assumption: single-tenant. Open question: payment provider.", "tasks": []}
</handoff>

Rules:
1. Write one <document> block per document you were asked to produce. The opening tag and the closing tag </document> each stand alone on their own line; the document's content is everything between those two lines, kept verbatim.
2. type is one of: intake, requirements, user_story, architecture, api_spec, database_schema, design, code, test_plan, security_audit, deployment_guide, runbook, other. title is exactly the title you were given: one line of at most 200 characters; inside it write & as &amp; and " as &quot;.
3. The content is Markdown unless the document type needs otherwise: an api_spec is a bare OpenAPI 3 YAML document, with no Markdown around it and no code fence. Content must not be empty, must be at most 512 KiB, and no line of it may be exactly </document>.
4. At most 20 documents, and never two with the same type and title.
5. The project's source code is written as files, not in documents: one <file> block per file, with its path relative to the repository root, like this:

<file path="backend/cmd/server/main.go">
package main

func main() {}
</file>

   The opening tag and the closing tag </file> each stand alone on their own line; the file's content is every line between them, kept verbatim, each ending with its line break. A path is made of segments separated by /, each of letters, digits and . _ - + @ (no spaces), with no leading /, no . or .. segment, no segment starting with -, nothing inside .git, and at most 200 characters. Never two files with the same path, even in different letter case, and never a file where another file's directory is. Write every file's complete content: it replaces the file's current version. At most 500 files of at most 512 KiB each, 16 MiB in all; text only (valid UTF-8, no NUL characters), and no line of a file may be exactly </file>.
6. End with exactly one <handoff> block holding one JSON object (strict JSON: no comments, no trailing commas):
   - "deliverables": the types of the documents above that you consider complete, and "code" when you wrote files; each listed type must have a <document> or, for code, a <file> block in this answer.
   - "nextRoles": the role words of the agents that should work next, possibly none: orchestrator, product_manager, architect, ux_designer, frontend_developer, backend_developer, data_engineer, ml_engineer, prompt_engineer, qa_engineer, model_evaluator, security_engineer, devops_engineer, aiops_engineer.
   - "notes": for the reviewer and the next agents: decisions, assumptions, open questions and risks; plain text, at most 4000 characters.
   - "tasks": follow-up work to track; leave it empty unless you are asked to decompose the project. At most 100, each an object with "key" (a short id unique in this list, e.g. "api-auth"), "gate" (the number of the gate, 1 to 9, where the task is done), "title" (one line, at most 200 characters), "description" (at most 4000 characters), "ownerRole" (the role word above of the agent that does it at that gate), "priority" ("low", "medium", "high" or "critical") and "dependsOn" (keys of other tasks in this same list; no cycles).
   - "doneTasks" (optional): when the open tasks you were given include tasks of yours (your role, this gate) and this answer completes only some of them, the keys of those it completes; leave it out when it completes them all.
7. Do not wrap the blocks in code fences, and do not put anything you need kept outside them: text outside the blocks is discarded.`
