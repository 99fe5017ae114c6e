import { afterAll } from 'vitest';
import { removeHomes } from './dbdoctor.js';

// Every test file's empty HOMEs (emptyHome) are removed once its tests are done.
afterAll(removeHomes);
