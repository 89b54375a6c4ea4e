// Charts as plain SVG: no library, no inline styles, colours from the stylesheet (series-N).
// Drawn at the container's real width, so text keeps its size at any window width.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { compact, num } from "../lib/format.js";
import { t } from "../lib/i18n.js";

function useWidth(initial = 640) {
  const ref = useRef(null);
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const measure = () => setWidth(Math.max(280, Math.round(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

function niceTicks(min, max, count = 5) {
  if (min === max) {
    const pad = Math.abs(min) || 1;
    return niceTicks(min - pad / 2, max + pad / 2, count);
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 0.5; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

// About how wide a label is at the charts' 12 px: CJK characters are square, others narrower.
const textWidth = (text) => [...String(text)].reduce((w, c) => w + (/[\u2e80-\uffff]/.test(c) ? 12 : 7.2), 0);

/**
 * `text` cut to about `px` wide, keeping its end: model ids differ at the end
 * (`ft:gemma-3-270m:acme:e2e:…` and its base share their start), so the cut is near the start.
 */
export function fit(text, px) {
  if (textWidth(text) <= px) return text;
  const chars = [...text];
  let head = Math.max(1, Math.floor(chars.length * 0.25));
  let tail = chars.length - head;
  while (tail > 1 && textWidth(`${chars.slice(0, head).join("")}…${chars.slice(-tail).join("")}`) > px) {
    if (head > 4 && head * 3 > tail) head -= 1;
    else tail -= 1;
  }
  return `${chars.slice(0, head).join("")}…${chars.slice(-tail).join("")}`;
}

// A tick's number, short and in the reader's language: "0.25", "1,250", "12.5K" / "1.3万".
const short = (v) => (Math.abs(v) >= 10000 ? compact(v) : num(+v.toPrecision(4)));

function Legend({ names }) {
  return (
    <ul class="legend">
      {names.map((name, i) => (
        <li key={name}>
          <span class={`swatch series-${i}`} aria-hidden="true" />
          {name}
        </li>
      ))}
    </ul>
  );
}

/**
 * Lines over a numeric x axis: `series = [{name, points: [{x, y}]}]`. With `integerX` (by
 * default when every x is a whole number, as training steps are) the x axis shows whole
 * numbers only.
 */
export function LineChart({ series, label, xLabel = "", yLabel = "", height = 260, integerX }) {
  const [ref, W] = useWidth();
  const all = series.flatMap((s) => s.points);
  if (!all.length) return null;
  const pad = { l: 52, r: 16, t: 26, b: 36 };
  const xs = all.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs);
  const yTicks = niceTicks(Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y)));
  const [yMin, yMax] = [yTicks[0], yTicks[yTicks.length - 1]];
  const sx = (x) => pad.l + ((x - xMin) / (xMax - xMin)) * (W - pad.l - pad.r);
  const sy = (y) => height - pad.b - ((y - yMin) / (yMax - yMin || 1)) * (height - pad.t - pad.b);
  const whole = integerX ?? xs.every(Number.isInteger);
  const xTicks = niceTicks(xMin, xMax).filter((x) => x >= xMin && x <= xMax && (!whole || Number.isInteger(x)));
  return (
    <figure class="chart" ref={ref}>
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {yTicks.map((y) => (
          <g key={`y${y}`} class="grid">
            <line x1={pad.l} x2={W - pad.r} y1={sy(y)} y2={sy(y)} />
            <text x={pad.l - 6} y={sy(y) + 4} text-anchor="end">
              {short(y)}
            </text>
          </g>
        ))}
        {xTicks.map((x) => (
          <text key={`x${x}`} class="tick" x={sx(x)} y={height - pad.b + 16} text-anchor="middle">
            {short(x)}
          </text>
        ))}
        <text class="axis-label" x={(W + pad.l) / 2} y={height - 4} text-anchor="middle">
          {xLabel}
        </text>
        <text class="axis-label" x={pad.l - 6} y={12} text-anchor="end">
          {yLabel}
        </text>
        {series.map((s, i) =>
          s.points.length ? (
            <g key={s.name} class={`series series-${i}`} data-series={s.name}>
              <polyline points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")} />
              {s.points.length <= 40 &&
                s.points.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={3} />)}
            </g>
          ) : null,
        )}
      </svg>
      <Legend names={series.map((s) => s.name)} />
    </figure>
  );
}

/** Horizontal bars, one per item: `items = [{label, value, low?, high?}]`. */
export function BarChart({ items, label, format = short }) {
  const [ref, W] = useWidth();
  if (!items.length) return null;
  const row = 30;
  // Room on the left for the longest label, up to 40% of the width; longer ones are cut.
  const longest = Math.max(...items.map((i) => textWidth(i.label)));
  const pad = { l: Math.min(Math.max(60, longest + 16), W * 0.4), r: 80, t: 6 };
  const height = pad.t * 2 + row * items.length;
  const max = Math.max(...items.map((i) => Math.max(i.value || 0, i.high || 0))) || 1;
  const sx = (v) => pad.l + (Math.max(0, v) / max) * (W - pad.l - pad.r);
  return (
    <figure class="chart" ref={ref}>
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {items.map((item, i) => {
          const y = pad.t + i * row;
          const name = fit(item.label, pad.l - 14);
          return (
            <g key={item.label} class={`bar series-${i % 6}`}>
              <text x={pad.l - 8} y={y + row / 2 + 4} text-anchor="end">
                <title>{item.label}</title>
                {name}
              </text>
              <rect x={pad.l} y={y + 5} width={Math.max(1, sx(item.value || 0) - pad.l)} height={row - 10} rx={3} />
              {item.low !== undefined && item.low !== null && item.high !== null && (
                <line class="whisker" x1={sx(item.low)} x2={sx(item.high)} y1={y + row / 2} y2={y + row / 2} />
              )}
              <text class="value" x={sx(Math.max(item.value || 0, item.high || 0)) + 6} y={y + row / 2 + 4}>
                {item.value === null || item.value === undefined ? "—" : format(item.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Vertical columns over categories (days): `items = [{label, value}]`. */
export function ColumnChart({ items, label, format = short, height = 220 }) {
  const [ref, W] = useWidth();
  if (!items.length) return null;
  // An all-zero series gets one tick, 0: a scale up to an invented 1 reads as data.
  const peak = Math.max(...items.map((i) => i.value));
  const ticks = peak > 0 ? niceTicks(0, peak) : [0];
  // Room for the longest tick label (about 7 px a character at 12 px).
  const pad = { l: Math.max(40, 10 + 7 * Math.max(...ticks.map((v) => String(format(v)).length))), r: 12, t: 12, b: 40 };
  const top = ticks[ticks.length - 1] || 1;
  const slot = (W - pad.l - pad.r) / items.length;
  const sy = (v) => height - pad.b - (v / top) * (height - pad.t - pad.b);
  const every = Math.ceil(items.length / Math.max(2, Math.floor(W / 80)));
  return (
    <figure class="chart" ref={ref}>
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {ticks.map((v) => (
          <g key={v} class="grid">
            <line x1={pad.l} x2={W - pad.r} y1={sy(v)} y2={sy(v)} />
            <text x={pad.l - 6} y={sy(v) + 4} text-anchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {items.map((item, i) => (
          <g key={item.label} class="bar series-0">
            <rect x={pad.l + i * slot + slot * 0.15} y={sy(item.value)} width={slot * 0.7} height={sy(0) - sy(item.value)} rx={2}>
              <title>{t("charts.point", { label: item.label, value: format(item.value) })}</title>
            </rect>
            {i % every === 0 && (
              <text class="tick" x={pad.l + (i + 0.5) * slot} y={height - pad.b + 16} text-anchor="middle">
                {item.label}
              </text>
            )}
          </g>
        ))}
      </svg>
    </figure>
  );
}
