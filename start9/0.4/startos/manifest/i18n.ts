export const short = {
  en_US: "A venture fund's CRM: fundraising grid, contacts, email capture",
}

export const long = {
  en_US:
    'Venture CRM replaces Airtable for a small venture fund: a fundraising grid of investors and funds with saved views, formulas and live presence, a classic CRM of organizations, contacts, opportunities and communications, verified automatic backups, and an audit trail of every change. One Python process over one SQLite file; all data stays on this server.',
}
