// The shared queue behaviour against BullMQ on the real Redis (workers started with startWorker).
import { describeQueueBehaviour } from './behaviour';
import { bullmqHarness } from './harness';

describeQueueBehaviour('BullMQ', bullmqHarness);
