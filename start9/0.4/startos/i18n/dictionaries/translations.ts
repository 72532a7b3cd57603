import { LangDict } from './default'

// No translations yet: every locale falls back to the English in default.ts.
const translations: Record<string, LangDict> = {}

export default translations
