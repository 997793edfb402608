import type { ComponentChildren } from 'preact';

/** A run or task status as a coloured badge; the word is always there (colour is never the only cue). */
export function Status({ status }: { status: string }) {
  return <span class={`badge s-${status.toLowerCase()}`}>{status}</span>;
}

/** A failed call, said in the API's own words. */
export function Problem({ error }: { error?: Error | undefined }) {
  if (!error) return null;
  return (
    <p class="problem" role="alert">
      {error.message}
    </p>
  );
}

export function Loading() {
  return (
    <p aria-live="polite" class="muted loading">
      Loading…
    </p>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id ?? slug(title)}>
      <h2 id={id ?? slug(title)}>{title}</h2>
      {children}
    </section>
  );
}

function slug(s: string): string {
  return `h-${s.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

/** The last outcomes of a schedule as coloured cells, oldest left (Airflow's grid). */
export function OutcomeCells({ runs }: { runs: { runId: string; status: string; scheduledTime: string }[] }) {
  return (
    <span class="cells">
      {[...runs].reverse().map((r) => (
        <a
          key={r.runId}
          href={`#/runs/${encodeURIComponent(r.runId)}`}
          class={`cell s-${r.status.toLowerCase()}`}
          title={`${r.status} ${r.scheduledTime}`}
          aria-label={`${r.status} run ${r.runId}`}
        />
      ))}
    </span>
  );
}
