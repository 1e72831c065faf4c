import { z } from 'zod';
import type { ContextBlock } from '../../core/contract.js';
import { isCurrencyCode } from '../../core/money.js';


export const ProductReviewInput = z.object({
  name: z.string().min(1).max(120),
  category: z.string().min(1).max(60),
  price: z.number().positive(),
  currency: z.string().refine(isCurrencyCode, { message: 'not an ISO 4217 currency code' }).describe('ISO 4217 code, e.g. "INR", "IDR", "USD"'),
  specs: z
    .record(z.string().min(1).max(60), z.union([z.string().min(1).max(200), z.number(), z.boolean()]))
    .refine((s) => Object.keys(s).length >= 2, 'a spec sheet needs at least 2 facts'),
  customerNotes: z.array(z.string().min(1).max(400)).max(8),
});
export type ProductReviewInput = z.infer<typeof ProductReviewInput>;

export const PRODUCT = 'Product';
export const SPEC_SHEET = 'Spec sheet';
export const CUSTOMER_NOTES = 'Customer notes';

export function productBlock(p: ProductReviewInput): ContextBlock {
  return { title: PRODUCT, facts: { name: p.name, category: p.category, price: `${p.price} ${p.currency}` } };
}

export function specSheetBlock(p: ProductReviewInput): ContextBlock {
  return { title: SPEC_SHEET, facts: p.specs };
}

export function customerNotesBlock(p: ProductReviewInput): ContextBlock {
  return p.customerNotes.length > 0 ? { title: CUSTOMER_NOTES, facts: p.customerNotes, userText: true } : { title: CUSTOMER_NOTES, facts: 'No customer notes.' };
}

/** The blocks titled `title`, or the whole context when there are none (a task called outside its pipeline). */
export function blocksTitled(context: readonly ContextBlock[], title: string): readonly ContextBlock[] {
  const found = context.filter((b) => b.title === title);
  return found.length > 0 ? found : context;
}

/** The customer notes of a context: the user text of a review. */
export function notesOf(context: readonly ContextBlock[]): string[] {
  return context.filter((b) => b.title === CUSTOMER_NOTES && b.userText).flatMap((b) => (Array.isArray(b.facts) ? [...(b.facts as readonly string[])] : []));
}
