/**
 * A schedule's duration trend: uPlot (≈ 20 KB gzipped, canvas, made for time series) draws
 * run durations over their scheduled times. A table of the same numbers follows for screen
 * readers and keyboard users (a canvas says nothing to them).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function DurationTrend({ points }: { points: { t: number; seconds: number; status: string }[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || points.length === 0) return;
    const sorted = [...points].sort((a, b) => a.t - b.t);
    const style = getComputedStyle(document.documentElement);
    const fg = style.getPropertyValue('--fg').trim() || '#222';
    const accent = style.getPropertyValue('--accent').trim() || '#2563eb';
    const grid = style.getPropertyValue('--line').trim() || '#ddd';
    const width = Math.max(300, el.current.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: false },
        // One run (or runs at one time) still gets a readable hour around it.
        scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 1800, max + 1800] : [min, max]) } },
        cursor: { show: true, drag: { x: false, y: false } },
        axes: [
          { stroke: fg, grid: { stroke: grid } },
          { stroke: fg, grid: { stroke: grid }, label: 'seconds', values: (_u, v) => v.map((x) => `${x}s`) },
        ],
        series: [{}, { label: 'duration', stroke: accent, width: 2, points: { show: true, size: 6 } }],
      },
      [sorted.map((p) => p.t / 1000), sorted.map((p) => p.seconds)],
      el.current,
    );
    return () => plot.destroy();
  }, [JSON.stringify(points)]);
  if (points.length === 0) return <p class="muted">No finished run yet.</p>;
  return (
    <figure class="trend">
      <div ref={el} role="img" aria-label={`Duration of the last ${points.length} finished runs`} />
      <figcaption class="muted small">Duration of finished runs by scheduled time.</figcaption>
    </figure>
  );
}
