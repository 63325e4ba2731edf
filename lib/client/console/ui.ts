import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { Spec } from './charts.js';

/** The console's shared pieces: loading answers, errors, charts, links, and the confirmed action. */

export type Load<T> = { state: 'loading' } | { state: 'done'; data: T } | { state: 'error'; error: Error };

/** Runs `load` when `key` changes (and when `reload` is called); a stale answer is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => void] {
  const [state, setState] = useState<Load<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ state: 'loading' });
    load().then(
      (data) => live && setState({ state: 'done', data }),
      (error: Error) => live && setState({ state: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  return [state, () => setTick((t) => t + 1)];
}

export const errorText = (error: Error) => (error instanceof ApiError ? `${error.code}: ${error.message}` : error.message);

export function ErrorBox({ error }: { error: Error }) {
  return html`<div class="error" role="alert"><strong>Error</strong> ${errorText(error)}</div>`;
}

/** A loading answer's three faces: a busy line, the error, or `render(data)`. */
export function Loaded<T>({ load, render }: { load: Load<T>; render: (data: T) => unknown }) {
  if (load.state === 'loading') return html`<p class="muted" aria-busy="true">Loading…</p>`;
  if (load.state === 'error') return html`<${ErrorBox} error=${load.error} />`;
  return render(load.data);
}

/** A Vega-Lite chart, drawn after mount (embed.ts is loaded with the first chart). */
export function Chart({ spec, label, testId }: { spec: Spec; label: string; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | undefined>();
  useEffect(() => {
    let finalize: (() => void) | undefined;
    let live = true;
    import('./embed.js')
      .then(({ draw }) => (ref.current ? draw(ref.current, spec, label) : undefined))
      .then((done) => {
        if (live) finalize = done;
        else done?.();
      })
      .catch((error: Error) => live && setFailed(error.message));
    return () => {
      live = false;
      finalize?.();
    };
  }, [JSON.stringify(spec)]);
  return html`<figure class="chart" data-testid=${testId}>
    <div ref=${ref}></div>
    <figcaption>${label}</figcaption>
    ${failed ? html`<p class="error" role="alert">The chart could not be drawn: ${failed}</p>` : null}
  </figure>`;
}

export const link = (...parts: (string | number)[]) => `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;

export const time = (iso: string | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '');

/** A number in at most 4 significant digits (0.3 stays 0.3); anything else as text; none as a dash. */
export const num = (value: unknown) => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)))) : value === null || value === undefined ? '–' : String(value));

export function Status({ value }: { value: string }) {
  return html`<span class=${`status status-${value.toLowerCase().replace(/[^a-z]+/g, '-')}`}>${value}</span>`;
}

export interface ActionSpec {
  /** The button's text, e.g. "Approve v3". */
  label: string;
  /** The dialog's title and what will happen. */
  title: string;
  detail: string;
  /** Extra fields (an alias to choose). */
  /** Extra fields (an alias to choose); `id` prefixes their element ids (one dialog per action on a page). */
  fields?: (values: Record<string, string>, set: (name: string, value: string) => void, id: string) => unknown;
  initial?: Record<string, string>;
  run: (reason: string, values: Record<string, string>) => Promise<unknown>;
  danger?: boolean;
}

/**
 * A button that opens a confirmation (a modal <dialog>: focus moves in, Escape cancels) asking for
 * the reason, which the API records in the audit log. The API's error stays in the dialog.
 */
export function ConfirmAction({ action, onDone }: { action: ActionSpec; onDone: (answer: unknown) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [values, setValues] = useState<Record<string, string>>(action.initial ?? {});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const open = () => {
    setReason('');
    setError(undefined);
    setValues(action.initial ?? {});
    dialog.current?.showModal();
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (reason.trim() === '') return setError(new Error('a reason is required: it goes into the audit log'));
    setBusy(true);
    setError(undefined);
    try {
      const answer = await action.run(reason.trim(), values);
      dialog.current?.close();
      onDone(answer);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const id = `reason-${action.label.replace(/\W+/g, '-')}`;
  return html`<span>
    <button type="button" class=${action.danger ? 'danger' : ''} onClick=${open}>${action.label}</button>
    <dialog ref=${dialog} aria-labelledby=${`${id}-title`}>
      <form onSubmit=${submit}>
        <h2 id=${`${id}-title`}>${action.title}</h2>
        <p>${action.detail}</p>
        ${action.fields?.(values, (name, value) => setValues((v) => ({ ...v, [name]: value })), id)}
        <label for=${id}>Reason (recorded in the audit log)</label>
        <textarea id=${id} required rows="3" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLTextAreaElement).value)}></textarea>
        ${error ? html`<${ErrorBox} error=${error} />` : null}
        <div class="buttons">
          <button type="button" onClick=${() => dialog.current?.close()}>Cancel</button>
          <button type="submit" class=${action.danger ? 'danger' : 'primary'} disabled=${busy}>${busy ? 'Working…' : 'Confirm'}</button>
        </div>
      </form>
    </dialog>
  </span>`;
}
