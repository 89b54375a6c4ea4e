// A provider's view: calls, tokens and revenue of the models its tenant published; never who called.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Empty, Page, Panel } from "../components/ui.jsx";
import { PeriodPicker, UsageCharts, UsageTable, UsageTotals } from "../components/usage.jsx";
import { download, get, query } from "../lib/api.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { periodRange } from "../lib/usage.js";

export function ProviderUsage() {
  const toast = useToast();
  const [period, setPeriod] = useState("30");
  const [busy, run] = useAction(toast.error);
  const range = periodRange(period);
  const report = useAsync(
    (signal) => get(`/v1/provider/usage${query({ ...range, group_by: "day,model", format: "json" })}`, { signal }),
    [period],
  );
  const exportCsv = () =>
    run(() => download(`/v1/provider/usage${query({ ...range, group_by: "day,model", format: "csv" })}`, "provider-usage.csv"));
  return (
    <Page
      title="Provider usage"
      subtitle="Calls, tokens and revenue of the models you published, per day and model. Who called them is never shown."
      actions={
        <button type="button" class="secondary" disabled={busy} onClick={exportCsv}>
          Export CSV
        </button>
      }
    >
      <PeriodPicker period={period} setPeriod={setPeriod} range={range} />
      <Async state={report}>
        {(data) =>
          data.data.length === 0 ? (
            <Panel>
              <Empty title="No calls to your models in this period">
                Publish a remote model (<code>POST /v1/models</code>) and its calls show up here.
              </Empty>
            </Panel>
          ) : (
            <>
              <UsageTotals report={data} measure="revenue" />
              <Panel title="By day">
                <UsageCharts report={data} group="day" measure="revenue" />
              </Panel>
              <Panel title="By model">
                <UsageCharts report={data} group="model" measure="revenue" />
              </Panel>
              <Panel title="Table">
                <UsageTable report={data} groups={["day", "model"]} measure="revenue" />
              </Panel>
            </>
          )
        }
      </Async>
    </Page>
  );
}
