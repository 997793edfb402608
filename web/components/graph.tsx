/**
 * A run's task graph and its Gantt timeline, drawn as SVG. A graph library (cytoscape,
 * dagre + a renderer) would cost 50–100 KB gzipped for what is here a few dozen boxes in
 * layers; the layering (web/format.ts `layers`) and the segments (`ganttSegments`) are pure
 * functions with unit tests, and the SVG is plain, keyboard-reachable and labelled.
 */
import type { TaskView } from '../api.ts';
import { formatDuration, ganttSegments, layers } from '../format.ts';

const W = 180;
const H = 40;
const GX = 60;
const GY = 18;

export function TaskGraph({ tasks, selected, onSelect }: { tasks: TaskView[]; selected?: string | undefined; onSelect: (task: string) => void }) {
  const main = tasks.filter((t) => t.phase === 'main');
  const extra = tasks.filter((t) => t.phase !== 'main');
  const cols = layers(main);
  if (extra.length) cols.push(extra.map((t) => t.name));
  const pos = new Map<string, { x: number; y: number }>();
  cols.forEach((col, i) => col.forEach((name, j) => pos.set(name, { x: i * (W + GX), y: j * (H + GY) })));
  const width = cols.length * (W + GX) - GX + 2;
  const height = Math.max(...cols.map((c) => c.length)) * (H + GY) - GY + 2;
  const byName = new Map(tasks.map((t) => [t.name, t]));
  return (
    <svg class="dag" width={width} height={height} viewBox={`-1 -1 ${width} ${height}`} role="group" aria-label="Task graph">
      {main.flatMap((t) =>
        t.dependsOn
          .filter((d) => pos.has(d))
          .map((d) => {
            const a = pos.get(d)!;
            const b = pos.get(t.name)!;
            return <path key={`${d}-${t.name}`} class="edge" d={`M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`} />;
          }),
      )}
      {[...pos].map(([name, p]) => {
        const t = byName.get(name)!;
        const shown = name.length > 22 ? `${name.slice(0, 21)}…` : name;
        return (
          <g
            key={name}
            class={`node s-${t.status.toLowerCase()} ${selected === name ? 'selected' : ''}`}
            transform={`translate(${p.x},${p.y})`}
            tabIndex={0}
            role="button"
            aria-pressed={selected === name}
            onClick={() => onSelect(name)}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onSelect(name))}
          >
            <rect width={W} height={H} rx={6} />
            <text x={10} y={17}>
              {shown}
            </text>
            <text x={10} y={32} class="sub">
              {' '}
              {t.status}
              {t.phase !== 'main' ? ' · on failure' : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function Gantt({ tasks, now }: { tasks: TaskView[]; now: number }) {
  const segments = ganttSegments(tasks, now);
  if (segments.length === 0) return <p class="muted">No attempt has been submitted yet.</p>;
  const rows = tasks.filter((t) => segments.some((s) => s.row === t.name)).map((t) => t.name);
  const start = Math.min(...segments.map((s) => s.start));
  const end = Math.max(...segments.map((s) => s.end), start + 1000);
  const label = 140;
  const width = 860;
  const span = width - label - 40;
  const x = (t: number) => label + ((t - start) / (end - start)) * span;
  const rowH = 26;
  const height = rows.length * rowH + 24;
  const ticks = Array.from({ length: 5 }, (_, i) => start + ((end - start) * i) / 4);
  return (
    <figure>
      <svg class="gantt" viewBox={`0 0 ${width} ${height}`} width={width} role="img" aria-label="Timeline of every attempt: queued, running and retry waits">
        {ticks.map((t) => (
          <g key={t}>
            <line class="tick" x1={x(t)} x2={x(t)} y1={0} y2={rows.length * rowH} />
            <text class="sub" x={x(t)} y={height - 6} text-anchor="middle">
              +{t === start ? '0s' : formatDuration(t - start)}
            </text>
          </g>
        ))}
        {rows.map((r, i) => (
          <text key={r} x={4} y={i * rowH + 17}>
            {r.length > 18 ? `${r.slice(0, 17)}…` : r}
          </text>
        ))}
        {segments.map((s, i) => (
          <rect
            key={i}
            class={`seg ${s.kind} s-${s.status.toLowerCase()}`}
            x={x(s.start)}
            y={rows.indexOf(s.row) * rowH + 4}
            width={Math.max(2, x(s.end) - x(s.start))}
            height={rowH - 8}
            rx={3}
          >
            <title>{`${s.label}: ${formatDuration(s.end - s.start)}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption class="legend small">
        <span class="key queued" /> queued in Batch <span class="key running" /> running (coloured by outcome) <span class="key retry-wait" /> waiting to retry
      </figcaption>
    </figure>
  );
}
