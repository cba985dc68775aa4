import { handleBatch, RecordError } from '@fnts/fdk';

interface Order {
  id: string;
  amount: number;
}

/**
 * Processes orders in partition order. A record that cannot be processed is reported with RecordError:
 * the records before it are committed, it is retried, and after max_attempts it goes to the dead-letter
 * stream (by default <app>.<fn>.<trigger>.dlq: demo.orders.orders.dlq when deployed to app "demo") while
 * the rest of the partition moves on. `fnts stream tail demo.orders.orders.dlq --from-beginning` shows it.
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
