/**
 * One seed for every property test in a run, so `npm test` and CI check the same generated
 * cases every time and a failure reproduces. `FC_SEED=<n> npm test` explores other cases
 * (a failing property prints the seed and path to replay it).
 */
import fc from 'fast-check';

const DEFAULT_SEED = 20261123;
const seed = process.env.FC_SEED === undefined ? DEFAULT_SEED : Number(process.env.FC_SEED);
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer (got "${process.env.FC_SEED}")`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
