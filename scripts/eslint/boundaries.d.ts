import type { Rule } from 'eslint';

export declare const boundaries: Rule.RuleModule;
declare const plugin: { rules: { boundaries: Rule.RuleModule } };
export default plugin;
