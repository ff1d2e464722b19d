// A CSV import at the documented limits: 100,000 data rows, 15 columns, a file just under 25 MiB
// (so that the multipart body around it fits the 25 MiB body limit), some names not ASCII.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const IMPORT_ROWS = 100_000;
/** The body limit (MAX_IMPORT_BYTES) less room for the multipart envelope. */
export const IMPORT_FILE_BYTES = 25 * 1024 * 1024 - 4 * 1024;

const HEADER =
  'Source_id,Name,Email,Phone,Birthdate,Address_Line_1,Address_City,Address_Postal_Code,Address_Country,Description,tier,points,vip,signup_channel,note';
const NAMES = ['Ada Lovelace', 'Zoë Müller', 'José Álvarez', 'Li Wei', 'Grace Hopper', 'Søren Kierkegaard', 'Alan Turing'];
const CITIES = ['Berlin', 'Kraków', 'São Paulo', 'Oslo', 'Paris', 'Zürich'];

/** Writes the file; every row is padded (in its description) to the same number of bytes. */
export async function writeImportCsv(path: string, rows = IMPORT_ROWS, bytes = IMPORT_FILE_BYTES): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${HEADER}\r\n`);
  const perRow = Math.floor((bytes - written) / rows);
  for (let i = 0; i < rows; i++) {
    const name = NAMES[i % NAMES.length] as string;
    const head = `imp-${i},"${name}, ${i}",c${i}@example.com,+48 600 ${String(i).padStart(6, '0')},1990-0${(i % 9) + 1}-1${i % 9},${i} Long Street,${CITIES[i % CITIES.length]},${String(i % 100_000).padStart(5, '0')},Poland,`;
    const tail = `,${['gold', 'silver', 'bronze'][i % 3]},${i * 7},${i % 2 === 0 ? 'true' : 'false'},${i % 5 === 0 ? 'store' : 'web'},note for row ${i}\r\n`;
    const room = perRow - Buffer.byteLength(head) - Buffer.byteLength(tail) - 2; // 2: the description's quotes
    await write(`${head}"${'Customer since the spring sale; likes newsletters. '.repeat(8).slice(0, Math.max(1, room))}"${tail}`);
  }
  out.end();
  await once(out, 'finish');
  return written;
}
