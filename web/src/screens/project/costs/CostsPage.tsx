// What the project's agent runs used, per gate, per role and per model, with the total; and the signed-in
// user's month against their budget. Offline runs (no language model ran) cost nothing.
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { formatCount, formatMicros } from "../../../shared/format";
import { Loading } from "../../../shared/Loading";
import { useTitle } from "../../../shared/useTitle";
import { gateTitle, useWorkflow } from "../../../shared/useWorkflow";
import { agentRoleWords } from "../tasks/tasks";
import { useCurrentProject } from "../ProjectLayout";

type Cost = Schemas["Cost"];
type Usage = Schemas["GetUsageResponse"];

export function Component() {
  const project = useCurrentProject();
  useTitle(`Costs · ${project.name}`);
  return (
    <section aria-labelledby="costs-heading">
      <h2 id="costs-heading">Costs</h2>
      <ProjectCosts projectId={project.id} projectType={project.type} />
      <MonthUsage />
    </section>
  );
}

function ProjectCosts({
  projectId,
  projectType,
}: {
  projectId: string;
  projectType: Schemas["ProjectType"];
}) {
  const api = useApi();
  const costs = useQuery({
    queryKey: queryKeys.costs(projectId),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{projectId}/costs", { params: { path: { projectId } } })),
  });
  const workflow = useWorkflow(projectType);
  if (costs.isPending) return <Loading label="Loading the costs" />;
  if (costs.isError) return <ErrorView error={costs.error} retry={() => void costs.refetch()} />;
  const { total, gates, roles, models } = costs.data;
  if (total.runs === 0) return <Empty>No costs yet: the agents' runs count here once the work starts.</Empty>;
  const byGate = [...gates].sort((a, b) => a.gate - b.gate);
  return (
    <>
      <p>
        This project has used <strong>{formatMicros(total.costMicros)}</strong> over {runs(total.runs)}:{" "}
        {formatCount(total.inputTokens)} tokens in and {formatCount(total.outputTokens)} out.
      </p>
      <CostNotes cost={total} />
      <CostTable
        caption="By gate"
        label="Gate"
        rows={byGate.map((g) => ({
          key: String(g.gate),
          name: gateTitle(workflow.data, g.gate),
          cost: g.cost,
        }))}
        total={total}
      />
      <CostTable
        caption="By role"
        label="Role"
        rows={roles.map((r) => ({ key: r.role, name: agentRoleWords(r.role), cost: r.cost }))}
        total={total}
      />
      <CostTable
        caption="By model"
        label="Model"
        rows={models.map((m) => ({ key: m.model, name: modelWords(m.model), cost: m.cost }))}
        total={total}
      />
    </>
  );
}

/** A model as the provider named it; the offline provider is no model. */
const modelWords = (model: string) =>
  model === "offline" ? "offline provider (no model)" : model || "model not known";

const runs = (n: number) => `${formatCount(n)} ${n === 1 ? "run" : "runs"}`;

/** Why some runs count no money: offline runs, and models without a known price. */
function CostNotes({ cost }: { cost: Cost }) {
  if (cost.offlineRuns === 0 && cost.unpricedRuns === 0) return null;
  return (
    <ul className="notice cost-notes">
      {cost.offlineRuns > 0 ? (
        <li>
          {cost.offlineRuns === cost.runs ? "Every run was" : `${runs(cost.offlineRuns)} were`} answered by
          the offline provider: no language model ran, so they used no tokens and cost nothing, and no budget
          counts them.
        </li>
      ) : null}
      {cost.unpricedRuns > 0 ? (
        <li>
          {runs(cost.unpricedRuns)} ran on models without a known price (local models): their tokens count,
          but no money.
        </li>
      ) : null}
    </ul>
  );
}

function CostTable(props: {
  caption: string;
  label: string;
  rows: { key: string; name: string; cost: Cost }[];
  total: Cost;
}) {
  return (
    <table className="cost-table">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.label}</th>
          <th scope="col" className="num">
            Runs
          </th>
          <th scope="col" className="num">
            Offline runs
          </th>
          <th scope="col" className="num">
            Tokens in
          </th>
          <th scope="col" className="num">
            Tokens out
          </th>
          <th scope="col" className="num">
            Cost
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <CostRow key={r.key} name={r.name} cost={r.cost} />
        ))}
      </tbody>
      <tfoot>
        <CostRow name="Total" cost={props.total} />
      </tfoot>
    </table>
  );
}

function CostRow({ name, cost }: { name: string; cost: Cost }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td className="num">{formatCount(cost.runs)}</td>
      <td className="num">{formatCount(cost.offlineRuns)}</td>
      <td className="num">{formatCount(cost.inputTokens)}</td>
      <td className="num">{formatCount(cost.outputTokens)}</td>
      <td className="num">{formatMicros(cost.costMicros)}</td>
    </tr>
  );
}

function MonthUsage() {
  const api = useApi();
  const usage = useQuery({ queryKey: queryKeys.usage, queryFn: () => unwrap(api.GET("/api/v1/usage")) });
  let body;
  if (usage.isPending) body = <Loading label="Loading your usage this month" />;
  else if (usage.isError) body = <ErrorView error={usage.error} retry={() => void usage.refetch()} />;
  else body = <UsageBody usage={usage.data} />;
  return (
    <section aria-labelledby="usage-heading" className="panel">
      <h3 id="usage-heading">Your month</h3>
      {body}
    </section>
  );
}

const monthFormat = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
const dayFormat = new Intl.DateTimeFormat("en-US", { month: "long", day: "numeric", timeZone: "UTC" });

function UsageBody({ usage }: { usage: Usage }) {
  const tokens = Number(usage.used.inputTokens) + Number(usage.used.outputTokens);
  return (
    <>
      <p className="muted">
        All your projects' runs in {monthFormat.format(new Date(usage.monthStart))} (UTC); the count starts
        again on {dayFormat.format(new Date(usage.monthEnd))}.
      </p>
      <BudgetMeter
        label="Tokens"
        used={tokens}
        budget={Number(usage.tokenBudget)}
        format={(n) => `${formatCount(n)} tokens`}
      />
      <BudgetMeter
        label="Cost"
        used={Number(usage.used.costMicros)}
        budget={Number(usage.costBudgetMicros)}
        format={formatMicros}
      />
      <CostNotes cost={usage.used} />
    </>
  );
}

/** Used against a budget: a bar and the same in words; a budget of 0 is no budget. */
function BudgetMeter(props: { label: string; used: number; budget: number; format: (n: number) => string }) {
  const { label, used, budget, format } = props;
  if (budget <= 0)
    return (
      <p>
        <strong>{label}:</strong> {format(used)} used, no budget.
      </p>
    );
  const percent = Math.round((used / budget) * 1000) / 10;
  const words = `${format(used)} of ${format(budget)} (${percent}%)${used >= budget ? ": the budget is spent" : ""}`;
  return (
    <div className="budget">
      <p>
        <strong>{label}:</strong> {words}
      </p>
      <progress
        className={used >= budget ? "over" : undefined}
        max={budget}
        value={Math.min(used, budget)}
        aria-label={`${label} used this month`}
        aria-valuetext={words}
      />
    </div>
  );
}
