// The shared queue behaviour against the in-process adapter of the embedded profile.
import { describeQueueBehaviour } from './behaviour';
import { inProcessHarness } from './harness';

describeQueueBehaviour('in-process', inProcessHarness);
