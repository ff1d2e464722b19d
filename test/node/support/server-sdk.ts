import { VoucherifyServerSide } from '@voucherify/sdk';
import { TEST_ENV } from '../../test-env';
import type { LocalWorker } from './local-worker';

/** The official server-side SDK pointed at a local worker, with the test server key (or another secret). */
export const serverSdk = (worker: Pick<LocalWorker, 'url'>, secretKey: string = TEST_ENV.APP_TOKEN, apiUrl = worker.url) =>
  VoucherifyServerSide({ applicationId: TEST_ENV.APP_ID, secretKey, apiUrl });

/**
 * A wire body the SDK's types are narrower than (discount types as enums, loose redeem params):
 * passed as is, since the wire takes these shapes.
 */
export const loose = <T>(body: T) => body as never;
