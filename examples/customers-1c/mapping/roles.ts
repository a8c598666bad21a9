import type { CustomerCategory } from '../onec/shape.js';
import type { SiteRole } from './site-user.js';

/** The site's role <-> 1C's customer category (КатегорияКлиента, this base's own attribute). */
const ROLE_TO_CATEGORY: Record<SiteRole, CustomerCategory> = { customer: 'Розничный', wholesale: 'Оптовый', dealer: 'Дилер' };
const CATEGORY_TO_ROLE = Object.fromEntries(Object.entries(ROLE_TO_CATEGORY).map(([role, category]) => [category, role])) as Record<CustomerCategory, SiteRole>;

export const roleToCategory = (role: SiteRole): CustomerCategory => ROLE_TO_CATEGORY[role];
export const categoryToRole = (category: CustomerCategory): SiteRole => CATEGORY_TO_ROLE[category];
