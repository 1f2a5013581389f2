export { EdgeDelivery, type EdgeDeliveryOptions } from './edge-delivery.service';
export {
  OutboxPublisher,
  resendDelay,
  type OutboxPublisherOptions,
  type OutboxTransport,
  type PublisherCounters,
} from './outbox.publisher';
export { Outbox, OUTBOX_FILE, type OutboxOptions } from './outbox.store';
export * from './outbox.types';
