/** A target's overall status (the zod schema in schema.ts enumerates the same three). */
export type TargetStatus = 'healthy' | 'degraded' | 'unhealthy';
