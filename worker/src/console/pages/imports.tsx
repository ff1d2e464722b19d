/**
 * @module Imports and exports: a customer CSV uploaded to POST /v1/customers/importCSV, its async
 * action followed to DONE with a progress bar (htmx polls every second), the failed rows in a table;
 * exports created with POST /v1/exports and downloaded through their signed URL.
 */
import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AsyncAction, AsyncActionList, Export, ExportList, ImportCsvResult } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { readForm } from '../form';
import { Empty, ErrorAlert, Facts, fragment, isHtmx, Layout, Notice, page, when } from '../ui';

const enc = encodeURIComponent;
const EXPORT_OBJECTS = [
  ['customer', 'Customers'],
  ['voucher', "A campaign's vouchers"],
  ['publication', "A campaign's publications"],
] as const;

const UploadForm: FC = () => (
  <section aria-labelledby="import-h">
    <h2 id="import-h">Import customers from a CSV</h2>
    <p class="hint">
      A header row is required: Source_id, Name, Email, Phone, Birthdate, Address_* and Description map to fields, any other column becomes
      metadata. Rows with a Source_id update that customer.
    </p>
    <form method="post" action="/console/imports/customers" enctype="multipart/form-data">
      <label for="csv-file">CSV file</label>
      <input id="csv-file" name="file" type="file" accept=".csv,text/csv" required />
      <p>
        <button type="submit">Upload and import</button>
      </p>
    </form>
  </section>
);

const isImport = (a: { type: string }) => a.type === 'CUSTOMERS.IMPORT_CSV';

const RecentImports: FC<{ actions: AsyncActionList['async_actions'] | ApiProblem }> = ({ actions }) => (
  <section aria-labelledby="recent-h">
    <h2 id="recent-h">Recent imports</h2>
    {!Array.isArray(actions) ? (
      <ErrorAlert error={actions} />
    ) : actions.filter(isImport).length === 0 ? (
      <Empty>No imports yet.</Empty>
    ) : (
      <ul>
        {actions.filter(isImport).map((a) => (
          <li>
            <a href={`/console/imports/actions/${enc(a.id)}`}>{when(a.created_at)}</a> · {a.status} · {a.progress} %
          </li>
        ))}
      </ul>
    )}
  </section>
);

/** The progress of one import; while it runs, htmx replaces it with a fresh copy every second. */
export const Progress: FC<{ action: AsyncAction | ApiProblem; id: string }> = ({ action, id }) => {
  if (!('object' in action)) return <ErrorAlert error={action as ApiProblem} />;
  const result = action.result as ImportCsvResult;
  const running = action.status === 'IN_PROGRESS';
  const polling = running
    ? { 'hx-get': `/console/imports/actions/${enc(id)}/progress`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' }
    : {};
  return (
    <div id="import-progress" data-testid="import-progress" data-status={action.status} {...polling}>
      <label for="import-bar">
        Import {action.status === 'DONE' ? 'done' : action.status === 'FAILED' ? 'failed' : 'in progress'}:{' '}
        <span data-testid="progress-percent">{action.progress} %</span>
      </label>
      <progress id="import-bar" max={100} value={action.progress}>
        {action.progress} %
      </progress>
      {running && <p class="muted">The rows are written by the queue consumer, chunk by chunk; this page follows them.</p>}
      {!running && (
        <>
          {result.message && <Notice>{result.message}</Notice>}
          {result.error && <ErrorAlert error={result.error} />}
          <Facts
            items={[
              ['Rows', result.total_count ?? 0],
              ['Created', result.created_count ?? 0],
              ['Updated', result.updated_count ?? 0],
              ['Unchanged', result.unchanged_count ?? 0],
              ['Failed', result.failed_count ?? 0],
            ]}
          />
          <h2>Failed rows</h2>
          {(result.failed ?? []).length === 0 ? (
            <Empty>No row failed.</Empty>
          ) : (
            <table data-testid="failed-rows">
              <caption class="muted">
                {result.failed_truncated ? `The first ${result.failed.length} of ${result.failed_count}` : `${result.failed_count} failed`}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Source id</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {result.failed.map((f) => (
                  <tr>
                    <td>{f.row}</td>
                    <td>{f.source_id ?? '—'}</td>
                    <td>{f.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
};

const ExportForm: FC = () => (
  <form method="post" action="/console/imports/exports">
    <label for="export-object">What to export</label>
    <select id="export-object" name="exported_object">
      {EXPORT_OBJECTS.map(([value, label]) => (
        <option value={value}>{label}</option>
      ))}
    </select>
    <label for="export-segment">Segment id (customers only; optional)</label>
    <input id="export-segment" name="segment_id" placeholder="seg_…" />
    <label for="export-campaign">Campaign id (vouchers and publications; required for them)</label>
    <input id="export-campaign" name="campaign_id" placeholder="camp_…" />
    <p>
      <button type="submit">Create export</button>
    </p>
  </form>
);

const Exports: FC<{ exports: Export[] | ApiProblem }> = ({ exports }) =>
  !Array.isArray(exports) ? (
    <ErrorAlert error={exports} />
  ) : exports.length === 0 ? (
    <Empty>No exports yet.</Empty>
  ) : (
    <table data-testid="exports">
      <thead>
        <tr>
          <th scope="col">Created</th>
          <th scope="col">Object</th>
          <th scope="col">Status</th>
          <th scope="col">Download</th>
        </tr>
      </thead>
      <tbody>
        {exports.map((e) => (
          <tr>
            <td>{when(e.created_at)}</td>
            <td>{e.exported_object}</td>
            <td>{e.status}</td>
            <td>{e.result?.url ? <a href={e.result.url} download={`${e.id}.csv`}>{`${e.id}.csv`}</a> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

async function importsPage(fetcher: ApiFetch, c: Context<AppBindings>, problem?: ApiProblem, done?: string) {
  const api = new ConsoleApi(fetcher, c);
  const [actions, exports] = await Promise.all([
    api.get<AsyncActionList>('/v1/async-actions?limit=20'),
    api.get<ExportList>('/v1/exports?limit=20'),
  ]);
  return page(
    c,
    <Layout title="Imports and exports" section="imports">
      {problem && <ErrorAlert error={problem} />}
      {done && <Notice>{done}</Notice>}
      <UploadForm />
      <RecentImports actions={actions.ok ? actions.body.async_actions : actions.error} />
      <section aria-labelledby="exports-h">
        <h2 id="exports-h">Exports</h2>
        <p class="hint">A download link is signed and valid for an hour; this page gives fresh ones.</p>
        <ExportForm />
        <Exports exports={exports.ok ? exports.body.exports : exports.error} />
      </section>
    </Layout>,
    problem ? (problem.code === 404 ? 404 : 400) : 200,
  );
}

export function importPages(fetcher: ApiFetch) {
  return (
    new Hono<AppBindings>()
      .get('/', (c) => importsPage(fetcher, c))
      // The upload streams on to the import (app.ts gives this path no body buffering); the import checks the file.
      .post('/customers', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const type = c.req.header('content-type') ?? '';
        const res = await api.forward<{ async_action_id: string }>('POST', '/v1/customers/importCSV', c.req.raw.body, type);
        if (!res.ok) return importsPage(fetcher, c, res.error);
        return c.redirect(`/console/imports/actions/${enc(res.body.async_action_id)}`, 303);
      })
      .get('/actions/:id', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const res = await api.get<AsyncAction>(`/v1/async-actions/${enc(c.req.param('id'))}`);
        return page(
          c,
          <Layout title="Customer import" section="imports">
            <section aria-live="polite">
              <Progress action={res.ok ? res.body : res.error} id={c.req.param('id')} />
            </section>
            <a href="/console/imports">Imports and exports</a>
          </Layout>,
          res.ok ? 200 : 404,
        );
      })
      .get('/actions/:id/progress', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const res = await api.get<AsyncAction>(`/v1/async-actions/${enc(c.req.param('id'))}`);
        return fragment(c, <Progress action={res.ok ? res.body : res.error} id={c.req.param('id')} />);
      })
      .post('/exports', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const form = await readForm(c);
        const text = (k: string) => (typeof form[k] === 'string' ? (form[k] as string).trim() : '');
        const object = text('exported_object') || 'customer';
        const parameters: Record<string, unknown> = {};
        if (object === 'customer' && text('segment_id')) parameters.filters = { segment_id: { conditions: { $is: [text('segment_id')] } } };
        if (object !== 'customer' && text('campaign_id')) parameters.campaign_id = text('campaign_id');
        const res = await api.post<Export>('/v1/exports', { exported_object: object, parameters });
        if (!res.ok) return importsPage(fetcher, c, res.error);
        if (isHtmx(c)) return fragment(c, <Notice>Export created.</Notice>);
        return c.redirect('/console/imports', 303);
      })
  );
}
