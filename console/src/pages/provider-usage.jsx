// A provider's view: calls, tokens and revenue of the models its tenant published; never who called.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Empty, Page, Panel } from "../components/ui.jsx";
import { PeriodPicker, UsageCharts, UsageTable, UsageTotals } from "../components/usage.jsx";
import { download, get, query } from "../lib/api.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
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
      title={t("usage.provider_title")}
      subtitle={t("usage.provider_subtitle")}
      actions={
        <button type="button" class="secondary" disabled={busy} onClick={exportCsv}>
          {t("usage.export_csv")}
        </button>
      }
    >
      <PeriodPicker period={period} setPeriod={setPeriod} range={range} />
      <Async state={report}>
        {(data) =>
          data.data.length === 0 ? (
            <Panel>
              <Empty title={t("usage.provider_empty_title")}>
                {t("usage.provider_empty_before")}
                <code>POST /v1/models</code>
                {t("usage.provider_empty_after")}
              </Empty>
            </Panel>
          ) : (
            <>
              <UsageTotals report={data} measure="revenue" />
              <Panel title={t("usage.by_day")}>
                <UsageCharts report={data} group="day" measure="revenue" />
              </Panel>
              <Panel title={t("usage.by_model")}>
                <UsageCharts report={data} group="model" measure="revenue" />
              </Panel>
              <Panel title={t("usage.table")}>
                <UsageTable report={data} groups={["day", "model"]} measure="revenue" />
              </Panel>
            </>
          )
        }
      </Async>
    </Page>
  );
}
