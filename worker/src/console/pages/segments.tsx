/**
 * @module Segments: the list with sizes and a size-history sparkline, and the builder: rows of
 * catalogue field + operator + value (builder.ts), a live count and sample as you type (htmx,
 * debounced, POST /v1/segments/preview; against the saved version when editing: who would enter
 * and leave), saved with POST /v1/segments or PUT /v1/segments/{id}.
 */
import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { MAX_CONDITIONS } from '../../../../shared/filter/operators';
import type { CustomerList, Segment, SegmentPreview, SegmentPreviewCustomer, SegmentSize } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { readForm } from '../form';
import {
  type BuilderRow,
  FIXED_FIELDS,
  FREE_FIELDS,
  filterToRows,
  isFreeField,
  type Junction,
  normaliseRow,
  OPERATOR_LABELS,
  operatorsFor,
  type RowProblem,
  rowsFromForm,
  rowsToFilter,
  valueShape,
} from '../builder';
import { Empty, ErrorAlert, fragment, isHtmx, Layout, Notice, page, plural, when } from '../ui';

const enc = encodeURIComponent;
const SAMPLE_SIZE = 10;
const SIZE_HISTORY_DAYS = 30;
/**
 * Typing pauses 300 ms before the count is asked for; a newer question aborts the one in flight
 * (hx-sync), so an older count never lands after a newer one. The preview shows "counting…" meanwhile.
 */
const COUNT = {
  'hx-post': '/console/segments/preview',
  'hx-target': '#preview',
  'hx-swap': 'outerHTML',
  'hx-sync': '#builder:replace',
  'hx-indicator': '#preview',
};
const LIVE = { ...COUNT, 'hx-trigger': 'input changed delay:300ms' };
/** A change of structure (field, operator, a row added or removed) re-renders the rows, and the count with them. */
const RESHAPE = { 'hx-post': '/console/segments/builder', 'hx-target': '#rows', 'hx-swap': 'outerHTML', 'hx-indicator': '#preview' };

const BLANK_ROW: BuilderRow = { field: '', key: '', op: '', value: '' };

// ---- List

/** A size history as an inline SVG line (no script, no image request); null when there is not enough of it. */
export const Sparkline: FC<{ sizes: SegmentSize[] }> = ({ sizes }) => {
  if (sizes.length < 2) return null;
  const width = 120;
  const height = 24;
  const values = sizes.map((s) => s.size);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const points = values
    .map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`)
    .join(' ');
  const label = `Size over ${plural(sizes.length, 'day')}, from ${sizes[0]?.day}: between ${min} and ${max}, now ${values[values.length - 1]}`;
  return (
    <svg
      class="spark"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      data-testid="sparkline"
    >
      <title>{label}</title>
      <polyline points={points} />
    </svg>
  );
};

const SizeCell: FC<{ total?: number; problem?: ApiProblem; sizes: SegmentSize[] | null }> = ({ total, problem, sizes }) => (
  <span data-testid="segment-size">
    {problem ? <ErrorAlert error={problem} /> : <>{plural(total ?? 0, 'customer')}</>} {sizes && <Sparkline sizes={sizes} />}
  </span>
);

async function listPage(fetcher: ApiFetch, c: Context<AppBindings>) {
  const api = new ConsoleApi(fetcher, c);
  const res = await api.get<{ data: Segment[]; total?: number }>('/v1/segments?limit=100');
  return page(
    c,
    <Layout title="Segments" section="segments">
      <p>
        <a class="button" href="/console/segments/new">
          New segment
        </a>
      </p>
      <section aria-label="Segment list">
        {!res.ok ? (
          <ErrorAlert error={res.error} />
        ) : res.body.data.length === 0 ? (
          <Empty>No segments yet. Build one with “New segment”.</Empty>
        ) : (
          <table data-testid="segment-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size (last {SIZE_HISTORY_DAYS} days)</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {res.body.data.map((s) => (
                <tr>
                  <td>
                    <a href={`/console/segments/${enc(s.id)}`}>{s.name}</a>
                  </td>
                  <td>{s.type}</td>
                  {/* Counted after the page shows: a passive segment's count judges every customer. */}
                  <td hx-get={`/console/segments/${enc(s.id)}/size`} hx-trigger="load" aria-live="polite">
                    <span class="muted">Counting…</span>
                  </td>
                  <td>{when(s.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Layout>,
    res.ok ? 200 : 400,
  );
}

// ---- Builder

const Row: FC<{ row: BuilderRow; i: number; autofocus: boolean }> = ({ row, i, autofocus }) => {
  const id = (part: string) => `row-${i}-${part}`;
  const free = isFreeField(row.field) ? FREE_FIELDS[row.field] : null;
  const ops = operatorsFor(row.field);
  const shape = row.op ? valueShape(row.op, row.field) : 'one';
  return (
    <div class="row" role="group" aria-label={`Condition ${i + 1}`} data-testid="builder-row">
      <div>
        <label for={id('field')}>Field</label>
        <select id={id('field')} name="field" autofocus={autofocus} {...RESHAPE} hx-trigger="change">
          <option value="">Choose a field…</option>
          <optgroup label="Customer">
            {FIXED_FIELDS.map((f) => (
              <option value={f.path} selected={row.field === f.path}>
                {f.label}
              </option>
            ))}
          </optgroup>
          <optgroup label="Typed key">
            {Object.entries(FREE_FIELDS).map(([value, f]) => (
              <option value={value} selected={row.field === value}>
                {f.label}
              </option>
            ))}
          </optgroup>
        </select>
      </div>
      {free ? (
        <div>
          <label for={id('key')}>{free.keyLabel}</label>
          <input id={id('key')} name="key" value={row.key} autocomplete="off" {...LIVE} />
        </div>
      ) : (
        <input type="hidden" name="key" value="" />
      )}
      <div>
        <label for={id('op')}>Operator</label>
        <select id={id('op')} name="op" {...RESHAPE} hx-trigger="change">
          {ops.length === 0 && <option value="">—</option>}
          {ops.map((op) => (
            <option value={op} selected={row.op === op}>
              {OPERATOR_LABELS[op]}
            </option>
          ))}
        </select>
      </div>
      {shape === 'none' ? (
        <input type="hidden" name="value" value="" />
      ) : (
        <div>
          <label for={id('value')}>{shape === 'list' ? 'Values (separate with commas)' : 'Value'}</label>
          <input id={id('value')} name="value" value={row.value} autocomplete="off" {...LIVE} />
        </div>
      )}
      <button
        type="button"
        class="secondary"
        {...RESHAPE}
        hx-vals={JSON.stringify({ remove: String(i) })}
        aria-label={`Remove condition ${i + 1}`}
      >
        Remove
      </button>
    </div>
  );
};

/** The rows, and the button that adds one: what a structural change re-renders. */
const Rows: FC<{ rows: BuilderRow[]; focus?: number | 'add' }> = ({ rows, focus }) => (
  <div id="rows">
    {rows.length === 0 && <Empty>No condition: every customer matches.</Empty>}
    {rows.map((row, i) => (
      <Row row={row} i={i} autofocus={focus === i} />
    ))}
    <p>
      <button
        type="button"
        id="add-row"
        class="secondary"
        {...RESHAPE}
        hx-vals={JSON.stringify({ add: '1' })}
        autofocus={focus === 'add'}
        disabled={rows.length >= MAX_CONDITIONS}
      >
        Add condition
      </button>
      {rows.length >= MAX_CONDITIONS && <span class="muted"> A filter may have at most {MAX_CONDITIONS} conditions.</span>}
    </p>
  </div>
);

type PreviewState = { problems: RowProblem[] } | { error: ApiProblem } | { preview: SegmentPreview };

const Sample: FC<{ customers: SegmentPreviewCustomer[]; label: string; testId: string }> = ({ customers, label, testId }) =>
  customers.length === 0 ? null : (
    <ul aria-label={label} data-testid={testId}>
      {customers.map((c) => (
        <li>
          <a href={`/console/customers/${enc(c.id)}`}>{c.name || c.email || c.source_id || c.id}</a>
          {c.email && c.name ? <span class="muted"> {c.email}</span> : null}
        </li>
      ))}
    </ul>
  );

const Preview: FC<{ state: PreviewState; oob?: boolean }> = ({ state, oob }) => (
  <section id="preview" aria-live="polite" aria-labelledby="preview-h" data-testid="preview" hx-swap-oob={oob ? 'true' : undefined}>
    <h2 id="preview-h">
      Who matches <span class="htmx-indicator muted">(counting…)</span>
    </h2>
    {'problems' in state && (
      <div class="alert" role="alert" data-testid="builder-problems">
        <ul>
          {state.problems.map((p) => (
            <li>{p.row ? `Condition ${p.row}: ${p.message}` : p.message}</li>
          ))}
        </ul>
      </div>
    )}
    {'error' in state && <ErrorAlert error={state.error} />}
    {'preview' in state && (
      <>
        <p>
          <strong data-testid="preview-count">{state.preview.count}</strong>{' '}
          {state.preview.count === 1 ? 'customer matches' : 'customers match'} now <span class="muted">({state.preview.took_ms} ms)</span>
        </p>
        {state.preview.count === 0 ? (
          <Empty>Nobody matches this filter.</Empty>
        ) : (
          <Sample customers={state.preview.sample} label="Sample of the customers who match" testId="preview-sample" />
        )}
        {state.preview.against && (
          <>
            <h3>Against the saved version</h3>
            <p data-testid="entering">
              <strong>{state.preview.against.entering.count}</strong> would enter
            </p>
            <Sample customers={state.preview.against.entering.sample} label="Customers who would enter" testId="entering-sample" />
            <p data-testid="leaving">
              <strong>{state.preview.against.leaving.count}</strong> would leave
            </p>
            <Sample customers={state.preview.against.leaving.sample} label="Customers who would leave" testId="leaving-sample" />
          </>
        )}
      </>
    )}
  </section>
);

async function previewOf(api: ConsoleApi, junction: Junction, rows: BuilderRow[], against: string): Promise<PreviewState> {
  const converted = rowsToFilter(junction, rows);
  if (!converted.ok) return { problems: converted.problems };
  const res = await api.post<SegmentPreview>('/v1/segments/preview', {
    filter: converted.filter,
    limit: SAMPLE_SIZE,
    ...(against ? { against } : {}),
  });
  return res.ok ? { preview: res.body } : { error: res.error };
}

interface BuilderForm {
  name: string;
  type: string;
  junction: Junction;
  rows: BuilderRow[];
  /** The saved segment being edited (the preview's `against`), or '' for a new one. */
  against: string;
}

/**
 * The submitted builder, or its refusal when it has more rows than a filter may hold: refused
 * before any row is rendered (a page never sends that many: its Add button stops at the limit).
 */
async function readBuilder(c: Context<AppBindings>): Promise<(BuilderForm & { body: Record<string, unknown> }) | { refused: Response }> {
  const body = (await readForm(c, { all: true })) as Record<string, unknown>;
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  const rows = rowsFromForm(body);
  if (!rows.ok) {
    const message = `This form has ${rows.count} conditions; a filter may have at most ${MAX_CONDITIONS}. Nothing was read from it.`;
    const alert = <ErrorAlert error={message} testId="too-many-conditions" />;
    return {
      refused: isHtmx(c)
        ? fragment(c, alert, 400)
        : page(
            c,
            <Layout title="Too many conditions" section="segments">
              {alert}
              <a href="/console/segments">All segments</a>
            </Layout>,
            400,
          ),
    };
  }
  return {
    body,
    name: text('name'),
    type: text('type') || 'auto-update',
    junction: text('junction') === 'or' ? 'or' : 'and',
    rows: rows.rows.map(normaliseRow),
    against: text('against'),
  };
}

const BuilderPage: FC<{ form: BuilderForm; segment?: Segment; preview: PreviewState; problem?: ApiProblem | string; saved?: boolean }> = ({
  form,
  segment,
  preview,
  problem,
  saved,
}) => (
  <Layout title={segment ? `Segment ${segment.name}` : 'New segment'} section="segments">
    {saved && <Notice>Saved.</Notice>}
    {problem && <ErrorAlert error={problem} testId="save-error" />}
    {segment && (
      <p class="muted">
        {segment.id} · {segment.type} · created {when(segment.created_at)} ·{' '}
        <a href={`/console/customers?segment_id=${enc(segment.id)}`}>its members</a>
      </p>
    )}
    <form id="builder" method="post" action={segment ? `/console/segments/${enc(segment.id)}` : '/console/segments'} data-testid="builder">
      <input type="hidden" name="against" value={form.against} />
      <label for="segment-name">Name</label>
      <input id="segment-name" name="name" required value={form.name} />
      {segment ? (
        <input type="hidden" name="type" value={form.type} />
      ) : (
        <>
          <label for="segment-type">Type</label>
          <select id="segment-type" name="type">
            <option value="auto-update" selected={form.type === 'auto-update'}>
              auto-update (membership stored, entered and left recorded)
            </option>
            <option value="passive" selected={form.type === 'passive'}>
              passive (judged when asked; its filter can be edited)
            </option>
          </select>
        </>
      )}
      <fieldset>
        <legend>Match</legend>
        <label>
          <input type="radio" name="junction" value="and" checked={form.junction === 'and'} {...COUNT} hx-trigger="change" /> all conditions
        </label>
        <label>
          <input type="radio" name="junction" value="or" checked={form.junction === 'or'} {...COUNT} hx-trigger="change" /> any condition
        </label>
      </fieldset>
      <Rows rows={form.rows} />
      <p>
        <button type="submit">{segment ? 'Save changes' : 'Save segment'}</button>
      </p>
    </form>
    <Preview state={preview} />
  </Layout>
);

export function segmentPages(fetcher: ApiFetch) {
  const showSegment = async (c: Context<AppBindings>, id: string, override?: { form: BuilderForm; problem: ApiProblem | string }) => {
    const api = new ConsoleApi(fetcher, c);
    const res = await api.get<Segment>(`/v1/segments/${enc(id)}`);
    if (!res.ok) {
      return page(
        c,
        <Layout title="Segment" section="segments">
          <ErrorAlert error={res.error} />
          <a href="/console/segments">All segments</a>
        </Layout>,
        res.status === 404 ? 404 : 400,
      );
    }
    const segment = res.body;
    if (segment.type === 'static') {
      return page(
        c,
        <Layout title={`Segment ${segment.name}`} section="segments">
          <p>
            A static segment: its members were listed when it was created, and it has no filter to edit.{' '}
            <a href={`/console/customers?segment_id=${enc(segment.id)}`}>Its members</a>
          </p>
        </Layout>,
      );
    }
    const { junction, rows } = filterToRows(segment.filter);
    const form: BuilderForm = override?.form ?? { name: segment.name, type: segment.type, junction, rows, against: segment.id };
    const preview = await previewOf(api, form.junction, form.rows, segment.id);
    return page(
      c,
      <BuilderPage form={form} segment={segment} preview={preview} problem={override?.problem} saved={c.req.query('saved') === '1'} />,
      override ? 400 : 200,
    );
  };

  return (
    new Hono<AppBindings>()
      .get('/', (c) => listPage(fetcher, c))
      .get('/new', async (c) => {
        const form: BuilderForm = { name: '', type: 'auto-update', junction: 'and', rows: [BLANK_ROW], against: '' };
        return page(c, <BuilderPage form={form} preview={await previewOf(new ConsoleApi(fetcher, c), form.junction, form.rows, '')} />);
      })
      .post('/preview', async (c) => {
        const form = await readBuilder(c);
        if ('refused' in form) return form.refused;
        return fragment(c, <Preview state={await previewOf(new ConsoleApi(fetcher, c), form.junction, form.rows, form.against)} />);
      })
      // A structural change: a row added or removed, a field or operator changed.
      .post('/builder', async (c) => {
        const form = await readBuilder(c);
        if ('refused' in form) return form.refused;
        let rows = form.rows;
        let focus: number | 'add' | undefined;
        if (form.body.add !== undefined && rows.length < MAX_CONDITIONS) {
          rows = [...rows, BLANK_ROW];
          focus = rows.length - 1;
        } else if (form.body.remove !== undefined) {
          const at = Number(form.body.remove);
          rows = rows.filter((_, i) => i !== at);
          focus = 'add';
        }
        const preview = await previewOf(new ConsoleApi(fetcher, c), form.junction, rows, form.against);
        return c.html(`${String(<Rows rows={rows} focus={focus} />)}${String(<Preview state={preview} oob />)}`);
      })
      .post('/', async (c) => {
        const form = await readBuilder(c);
        if ('refused' in form) return form.refused;
        const api = new ConsoleApi(fetcher, c);
        const converted = rowsToFilter(form.junction, form.rows);
        const problem = !converted.ok
          ? converted.problems.map((p) => (p.row ? `Condition ${p.row}: ${p.message}` : p.message)).join('; ')
          : undefined;
        const res = converted.ok
          ? await api.post<Segment>('/v1/segments', { name: form.name, type: form.type, filter: converted.filter })
          : undefined;
        if (res?.ok) return c.redirect(`/console/segments/${enc(res.body.id)}?saved=1`, 303);
        const preview = await previewOf(api, form.junction, form.rows, '');
        return page(c, <BuilderPage form={form} preview={preview} problem={problem ?? (res && !res.ok ? res.error : 'Not saved.')} />, 400);
      })
      .get('/:id/size', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const id = c.req.param('id');
        const [members, sizes] = await Promise.all([
          api.get<CustomerList>(`/v1/customers?segment_id=${enc(id)}&limit=1`),
          api.get<{ data: SegmentSize[] }>(`/v1/segments/${enc(id)}/sizes?days=${SIZE_HISTORY_DAYS}`),
        ]);
        // No history (yet) or no history route: the count alone.
        const history = sizes.ok && Array.isArray(sizes.body?.data) ? sizes.body.data : null;
        return fragment(
          c,
          members.ok ? <SizeCell total={members.body.total} sizes={history} /> : <SizeCell problem={members.error} sizes={history} />,
        );
      })
      .get('/:id', (c) => showSegment(c, c.req.param('id')))
      .post('/:id', async (c) => {
        const id = c.req.param('id');
        const form = await readBuilder(c);
        if ('refused' in form) return form.refused;
        const converted = rowsToFilter(form.junction, form.rows);
        if (!converted.ok) {
          return showSegment(c, id, {
            form,
            problem: converted.problems.map((p) => (p.row ? `Condition ${p.row}: ${p.message}` : p.message)).join('; '),
          });
        }
        const res = await new ConsoleApi(fetcher, c).call<Segment>('PUT', `/v1/segments/${enc(id)}`, {
          name: form.name,
          filter: converted.filter,
        });
        if (res.ok) return c.redirect(`/console/segments/${enc(id)}?saved=1`, 303);
        return showSegment(c, id, { form, problem: res.error });
      })
  );
}
