import { handleBatch, RecordError } from '@fnts/fdk';

interface Order {
  id: string;
  amount: number;
}

/**
 * Processes orders in partition order. A record that cannot be processed is reported with RecordError:
 * the records before it are committed, it is retried, and after max_attempts it goes to the dead-letter
 * stream (orders.dlq by default) while the rest of the partition moves on.
 */
handleBatch<Order>(async (records, ctx) => {
  for (const r of records) {
    if (typeof r.value?.amount !== 'number') {
      throw new RecordError(r, `order at ${r.idempotencyKey} has no amount`);
    }
    // idempotencyKey (<stream>/<partition>/<offset>) lets a side effect skip a redelivered record.
    console.log(`order ${r.value.id}: ${r.value.amount} (${r.idempotencyKey}, batch ${ctx.batchId} attempt ${ctx.attempt})`);
  }
});
