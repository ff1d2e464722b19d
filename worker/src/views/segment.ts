import type { Segment } from '../../../shared/types';
import type { SegmentRow } from '../db/segments';
import { toIso } from '../lib/time';

// The segment object, built from its row.

export function rowToSegment(row: SegmentRow): Segment {
  const segment: Segment = {
    id: row.id,
    name: row.name,
    created_at: toIso(row.created_at),
    type: row.type,
    filter: row.filter === null ? null : (JSON.parse(row.filter) as Record<string, unknown>),
    initial_sync_status: row.initial_sync_status,
    metadata: {},
    object: 'segment',
  };
  if (row.updated_at !== null) segment.updated_at = toIso(row.updated_at);
  return segment;
}
