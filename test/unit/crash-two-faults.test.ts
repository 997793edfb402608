/**
 * Two faults in one run: a first crash at a telling step (fire right after SubmitJob, a
 * successor's lease taken and the invocation dead, a Slack post not recorded), then a second
 * fault after each step of the invocation that has to carry on from it (the event that ends
 * the run, or Lambda's retry of the first faulted invocation). A small matrix, not every
 * pair: see docs/crash-points.md. In process: test/helpers/crash-world.ts.
 */
import { defineTwoFaultSuite } from '#test/helpers/crash-points';

defineTwoFaultSuite('crash points of two faults in one run', ['fire-then-end', 'successor-twice', 'failure-twice']);
