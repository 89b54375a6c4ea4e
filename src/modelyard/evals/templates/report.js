// "Show failures only": hides rows whose data-failed is "false"; the count says how many remain.
(() => {
  const box = document.getElementById("failures-only");
  const count = document.getElementById("shown-count");
  if (!box || !count) return;
  const rows = Array.from(document.querySelectorAll("#examples tbody tr"));
  const apply = () => {
    let shown = 0;
    for (const row of rows) {
      row.hidden = box.checked && row.dataset.failed !== "true";
      if (!row.hidden) shown += 1;
    }
    count.textContent = `${shown} of ${rows.length} examples shown`;
  };
  box.addEventListener("change", apply);
  apply();
})();
