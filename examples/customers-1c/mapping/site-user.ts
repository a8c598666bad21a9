// The site's customer as the export reads it (the site's users table, Postgres
// text values: ids and timestamps as text), and what the import writes back into users.
import { z } from 'zod';

export const SITE_ROLES = ['customer', 'wholesale', 'dealer'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

const blankToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);
const optionalText = z.preprocess(blankToNull, z.string().trim().nullable());

export const siteUserSchema = z.object({
  id: z.string().regex(/^\d+$/, 'must be the numeric user id'),
  email: z.email(),
  first_name: z.string().trim(),
  last_name: z.string().trim(),
  company_name: optionalText,
  /** ИНН as the customer typed it: its shape is checked here, its check digits by 1C */
  tax_id: z.preprocess(blankToNull, z.string().trim().regex(/^\d{10}$|^\d{12}$/, 'must be 10 digits (a company) or 12 digits (a person or sole trader)').nullable()),
  kpp: z.preprocess(blankToNull, z.string().trim().regex(/^\d{4}[\dA-Z]{2}\d{3}$/, 'must be 9 characters (КПП)').nullable()),
  phone: optionalText,
  role: z.enum(SITE_ROLES),
  birth_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
  /** timestamptz as Postgres text */
  date_joined: z.string(),
  is_active: z.boolean(),
});
export type SiteUser = z.infer<typeof siteUserSchema>;

/** The columns the import writes into users (the same set for every row: a column left out of one row would be written NULL). */
export const importedUserSchema = z.object({
  onec_id: z.string(),
  email: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  company_name: z.string().nullable(),
  tax_id: z.string().nullable(),
  kpp: z.string().nullable(),
  phone: z.string().nullable(),
  role: z.enum(SITE_ROLES),
  birth_date: z.string().nullable(),
  /** ISO 8601 UTC */
  date_joined: z.string(),
  is_active: z.boolean(),
  created_in_1c: z.boolean(),
  sync_status: z.literal('synced'),
  last_sync_at: z.string(),
  sync_error_message: z.literal(''),
});
export type ImportedUser = z.infer<typeof importedUserSchema>;
