// The CLI and the API register dbdoctor's own words the same way (api/vocabulary.ts).
export { registerVocabulary } from '../api/vocabulary.js';
