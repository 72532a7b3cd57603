"""The labelled synthetic corpus of bench/retrieval_bench.py: CRM notes about investors, with queries and their answers.

    corpus = build(random.Random(seed), orgs=200, per_org=12)       # labelled: entity and topic queries
    corpus = build(random.Random(seed), orgs=2000, chunks=100_000)  # scale: the same kind of text, no queries needed

Every record is a classic-CRM communication (a call, meeting, email or note) with one contact
of one organization, about one of TOPICS. Its text names the party as notes do ("Call with
Ingrid Tormont (Halvorsen Capital)", the firm alone, or the person alone), says one or two
things about the topic in one of several phrasings, and adds small talk that is about nothing.

Queries, each with the set of communication ids that answer it:
- ENTITY: a person or a firm and a topic, in the words a partner would type ("what did
  Halvorsen Capital say about the side letter"); answered by that party's records on that topic
  (a firm's include its people's, whether or not the text names the firm).
- TOPIC: a topic in other words, sharing as few words with its records as English allows
  ("private arrangements giving one investor better treatment than the rest"); answered by every
  record on that topic.

Deterministic from the Random it is given: the same seed gives the same corpus, ids included.
"""
import uuid
from dataclasses import dataclass, field

# (key, how a partner names it in an entity query, a subject line, what records say, topic queries)
TOPICS = [
    ("management_fee", "the management fee", "Fees",
     ["They pushed back on the 2% management fee and asked whether it steps down after the investment period.",
      "Asked if the management fee could be charged on invested rather than committed capital.",
      "Wants a fee break: 1.75% management fee for commitments above $25m.",
      "Management fee offsets for transaction and monitoring fees came up again."],
     ["which investors are unhappy with what we charge every year to run the vehicle",
      "LPs asking us to cut the annual cost of having us look after their money"]),
    ("carry", "carried interest", "Carry and waterfall",
     ["Questioned the 20% carried interest and the European waterfall.",
      "Asked whether carry is paid deal by deal or on the whole fund, and about clawback.",
      "Wants an 8% hurdle before any carried interest is paid to the GP."],
     ["who is negotiating our share of the profits and when it gets paid out",
      "objections to the profit split between the general partner and limited partners"]),
    ("side_letter", "the side letter", "Side letter",
     ["Requested a side letter covering reporting rights and transfer consent.",
      "Their counsel sent a side letter draft; we need to respond by Friday.",
      "Side letter asks include excuse rights and a seat at the annual review.",
      "Agreed the side letter terms verbally; legal to paper it."],
     ["which LPs want a private bilateral agreement on top of the partnership contract",
      "special individual arrangements granting one investor extra rights"]),
    ("capital_call", "the capital call", "Capital call",
     ["Confirmed they can fund the capital call within ten business days.",
      "Asked for more notice before each capital call; their treasury needs two weeks.",
      "Missed the drawdown deadline last quarter; the wire arrived four days late.",
      "Capital call notice received; they flagged a wrong bank reference."],
     ["who was slow to send cash when we asked for the money they promised",
      "problems wiring funds on time when the vehicle requests payment"]),
    ("co_invest", "co-investment", "Co-invest",
     ["Keen on co-investment rights alongside the fund in larger deals.",
      "Asked to see co-invest opportunities with no fee and no carry.",
      "Wants priority allocation in co-investments above $10m."],
     ["investors who want to put money straight into individual portfolio companies next to us",
      "appetite for backing single deals directly beside the main vehicle"]),
    ("due_diligence", "due diligence", "Diligence",
     ["Their due diligence team requested the data room and references.",
      "Sent a 40-question DDQ; an operational due diligence visit is planned.",
      "Diligence is ongoing: they are reviewing track record attribution and the audit letters."],
     ["which prospects are still investigating us before they decide",
      "where each LP stands in vetting our operations and controls"]),
    ("esg", "ESG", "ESG policy",
     ["Asked for our ESG policy and how we screen portfolio companies.",
      "They require annual reporting on carbon emissions and diversity metrics.",
      "PRI signatory; wants ESG clauses written into the LPA."],
     ["LPs focused on sustainability and responsible investment standards",
      "demands about climate impact and social responsibility of the companies we back"]),
    ("lpac", "the LPAC", "LPAC",
     ["Offered a seat on the LPAC; they accepted.",
      "Wants to join the limited partner advisory committee.",
      "LPAC meeting approved the cross-fund transaction and the valuation policy."],
     ["who sits on the investor oversight body that signs off on related-party deals",
      "which investors are on our governance board"]),
    ("lpa_markup", "the LPA markup", "LPA comments",
     ["Counsel marked up the LPA: removal provisions and the no-fault divorce clause.",
      "Comments on the limited partnership agreement focus on the investment period and the term.",
      "Sent back the LPA with 60 comments, mostly indemnification."],
     ["legal negotiation over the main contract that governs the partnership",
      "lawyers redlining our constitutional fund documents"]),
    ("key_person", "the key person clause", "Key person",
     ["Asked what happens under the key person clause if a founding partner leaves.",
      "Wants a key person event to suspend the investment period automatically.",
      "Key person provisions must name both founders, they said."],
     ["what happens if one of our senior leaders quits",
      "investor worries about losing the founders and the consequences for new deals"]),
    ("reporting", "quarterly reporting", "Quarterly report",
     ["Asked for quarterly reports within 45 days of quarter end.",
      "Wants ILPA template reporting with portfolio company metrics.",
      "Complained the Q3 report arrived late and lacked cash flow detail."],
     ["LPs wanting more frequent and standardised updates on how things are going",
      "information we owe investors every three months"]),
    ("valuation", "valuations", "Marks",
     ["Questioned the marks on two portfolio companies and asked for our valuation policy.",
      "Asked how we value unrealised positions under fair value methodology.",
      "Thinks our valuations are aggressive relative to public comparables."],
     ["doubts about how we price holdings that have not been sold yet",
      "skepticism over the numbers we put on unlisted stakes"]),
    ("distributions", "distributions", "Distributions",
     ["Asked when the first distribution is expected and what DPI looks like today.",
      "Happy with the distribution from the exit last quarter.",
      "Wants distributions in cash, not in kind."],
     ["when will investors get cash back from the vehicle",
      "proceeds returned to LPs after exits"]),
    ("closing", "the final close", "Closing",
     ["Will commit ahead of the first close if terms are final.",
      "Asked us to extend the final close date to March.",
      "Needs the closing documents signed by month end."],
     ["timing of the deadline for the last commitments to get in",
      "when does the fundraising window shut"]),
    ("allocation", "their allocation", "Allocation",
     ["Indicated a $15m commitment, subject to approval.",
      "Reducing their allocation from $20m to $10m because of the denominator effect.",
      "Pacing plan leaves room for one new manager this year."],
     ["how much money each LP plans to put in",
      "ticket size and how big a cheque they will write"]),
    ("ic_approval", "investment committee approval", "IC",
     ["Their investment committee meets on the 12th to vote on Fund III.",
      "IC approval is pending; the CIO is supportive.",
      "The committee deferred the decision to next quarter."],
     ["when does the LP's internal board vote on backing us",
      "who is waiting on a decision from their own approval body"]),
    ("tax", "tax questions", "Tax",
     ["Asked about K-1 timing and UBTI exposure.",
      "Needs a blocker for ECI; their tax adviser is reviewing.",
      "Wants tax distributions and an estimate of withholding for foreign partners."],
     ["questions from their accountants about annual filings and exempt status",
      "paperwork accountants need each spring and withholding worries"]),
    ("secondaries", "a secondary sale", "Secondary",
     ["Considering selling their stake on the secondary market.",
      "Asked whether we would consent to a transfer of their LP interest.",
      "A secondaries buyer approached them with a bid at 92% of NAV."],
     ["an investor wanting to get out of its position early by selling to someone else",
      "liquidity before the end through another buyer"]),
    ("gp_commit", "the GP commitment", "GP commitment",
     ["Asked how much the GP commits to the fund personally.",
      "Wants the GP commitment to be at least 2% in cash, not through fee waivers.",
      "Satisfied with the partners' commitment of $5m of their own capital."],
     ["how much of our own money the founders are putting in",
      "skin in the game from the managers"]),
    ("track_record", "the track record", "Track record",
     ["Impressed by Fund I's 2.8x TVPI and top quartile IRR.",
      "Wants attribution of the track record by partner.",
      "Asked for a full track record with realised and unrealised deals."],
     ["how well our earlier vehicles performed",
      "historical returns of previous funds"]),
    ("succession", "succession", "Team",
     ["Asked about succession planning and the next generation of partners.",
      "Concerned about team turnover after two vice presidents left.",
      "Wants to meet the junior team before committing."],
     ["worries about people leaving the firm and who takes over",
      "depth of the bench behind the founders"]),
    ("extension", "the fund extension", "Extension vote",
     ["Asked to vote on a one-year extension of the fund term.",
      "Opposes extending the fund beyond year twelve.",
      "Supports the extension if management fees drop during it."],
     ["lengthening the vehicle's life past its planned end",
      "keeping the partnership open longer than promised"]),
    ("credit_line", "the subscription line", "Credit facility",
     ["Asked how we use the subscription credit facility and its effect on IRR.",
      "Wants the subscription line limited to 90 days outstanding.",
      "Prefers we disclose IRR with and without the credit facility."],
     ["borrowing from banks that flatters our reported returns",
      "short-term bank debt taken before asking investors for money"]),
    ("strategy", "the strategy", "Strategy",
     ["Likes our focus on bitcoin infrastructure and energy.",
      "Asked how the strategy differs from Fund I and whether we will do more growth-stage deals.",
      "Thinks the sector focus is too narrow."],
     ["what kind of companies we back and in which sectors",
      "our investment thesis and market focus"]),
    ("annual_meeting", "the annual meeting", "Annual meeting",
     ["Will attend the annual meeting in Austin in October.",
      "RSVP'd for the annual investor day and is bringing two colleagues.",
      "Cannot make the annual meeting; asked for the recording."],
     ["who is coming to our yearly gathering",
      "attendance at the once-a-year get-together with LPs"]),
    ("kyc", "KYC documents", "Onboarding",
     ["Subscription documents are missing KYC: passport copy and proof of address.",
      "AML check flagged; compliance needs beneficial ownership information.",
      "KYC is complete and the subscription agreement is countersigned."],
     ["paperwork to verify who the investor is and where the money comes from",
      "identity checks before we can admit them"]),
    ("fx", "currency risk", "FX",
     ["They invest in euros and asked about FX hedging for the dollar fund.",
      "Currency risk is their main concern with a USD vehicle.",
      "Asked whether capital calls could be paid in sterling."],
     ["worries about exchange rates for foreign investors",
      "investing from abroad in a fund denominated in another money"]),
    ("mfn", "MFN rights", "MFN",
     ["Asked for most favoured nation treatment on any fee discount.",
      "Wants an MFN election over other investors' side terms.",
      "MFN rights limited to commitments of the same size or smaller, we told them."],
     ["an investor wanting any better deal offered to others to apply to them automatically",
      "equal treatment with whoever gets the best terms"]),
    ("references", "reference calls", "References",
     ["Asked to speak with three portfolio CEOs as references.",
      "Reference calls with our co-investors went well.",
      "Their consultant ran backchannel references on the partners."],
     ["investors wanting to talk to founders we backed to vouch for us",
      "people who can speak to what working with us is like"]),
    ("data_room", "the data room", "Data room",
     ["Requested access to the virtual data room.",
      "Could not log in to the data room; we reset the password.",
      "Downloaded everything from the data room, including the audited financials."],
     ["trouble getting into the online document repository",
      "the secure website where we keep the files for prospective investors"]),
]

FIRST = ("Ingrid Maya James Priya Lucas Sofia Daniel Hannah Omar Emily Ravi Grace Tom Erik Astrid Wei Mei Hiroshi Yuki"
         " Pierre Camille Fatima Kwame Elena Marco Chiara Lars Nadia Samuel Olivia Arjun Leila Felix Clara Jonas Amara"
         " Diego Rosa Henrik Freya Tariq Zara Victor Alice Mateo Ines Oscar Lena Nikhil Ada").split()
ONSETS = ("Hal Brek Cor Dun Ess Fal Gar Hol Ing Jor Kel Lind Mar Nor Ost Pel Quen Ros Sten Tor Ul Vass Wen Yar Zel"
          " Ash Bram Cald Dray Elm").split()
CODAS = "vorsen ridge wick mont berg holt by ford ley stad ton mere gate dahl worth field strom hurst".split()
SUFFIXES = ("Capital", "Partners", "Family Office", "Endowment", "Foundation", "Pension Fund", "Asset Management",
            "Investments")
KINDS = ("call", "meeting", "email", "note")
GENERIC_SUBJECTS = ("Catch-up", "Follow-up", "Fund III", "Check-in", "Intro", "Update", "Quick call", "Notes")
SMALL_TALK = ("Spoke for about twenty minutes.", "Will follow up next week.", "They were travelling and joined late.",
              "Good energy on the call overall.", "Sent the deck afterwards.", "They asked us to loop in their counsel.",
              "Scheduling the next meeting for after the holidays.", "Conversation was friendly and brief.",
              "They mentioned the market has been choppy.", "Left a voicemail first, then reached them.")
NEXT_STEPS = ("Send the deck", "Schedule a follow-up", "Share the LPA", "Loop in legal", "Book an in-person meeting")
INTROS = {  # how a record names its party: {p} the person, {o} the firm
    "both": ("Call with {p} ({o}).", "Met {p} of {o} at their office.", "{p} from {o} emailed.",
             "Lunch with {p}, {o}.", "Video call: {p} ({o})."),
    "org": ("{o}:", "Meeting with the {o} team.", "Update from {o}.", "Notes on {o}."),
    "person": ("{p} called.", "Email from {p}.", "Coffee with {p}.", "{p} reached out."),
}
ENTITY_QUERIES = {
    "org": ("what did {o} say about {t}", "{o} {t}", "has {o} raised {t}", "{o} comments on {t}"),
    "person": ("what did {p} say about {t}", "{p} {t}", "notes from {p} on {t}", "{p}'s view on {t}"),
}


@dataclass
class Query:
    kind: str          # "entity" or "topic"
    text: str
    relevant: set      # communication ids


@dataclass
class Corpus:
    orgs: list         # (id, name)
    contacts: list     # (id, first, last, org id)
    records: list      # (id, contact id, kind, subject, body, next_action, date, topic key)
    queries: list = field(default_factory=list)


def new_id(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def names(rng, count: int) -> list:
    """`count` distinct made-up surnames ("Halvorsen", "Kelmont", ...); 30 x 18 = 540 at most."""
    pool = sorted({onset + coda for onset in ONSETS for coda in CODAS})
    if count > len(pool):
        raise ValueError(f"at most {len(pool)} distinct names")
    return rng.sample(pool, count)


def parties(rng, orgs: int) -> tuple:
    """(orgs, contacts): firms named "<surname> <suffix>", one or two people each with other surnames."""
    surnames = names(rng, min(540, orgs + 300))
    firm_names, people_names = surnames[:min(orgs, 240)], surnames[min(orgs, 240):]
    org_rows, contact_rows, seen = [], [], set()
    for n in range(orgs):
        name = f"{firm_names[n % len(firm_names)]} {SUFFIXES[(n // len(firm_names) + n) % len(SUFFIXES)]}"
        name = name if name not in seen else f"{name} {n}"
        seen.add(name)
        org_rows.append((new_id(rng), name))
        for _ in range(rng.choice((1, 2, 2))):
            person = (rng.choice(FIRST), rng.choice(people_names))
            while person in seen:  # no namesakes: a person query has one answer
                person = (rng.choice(FIRST), rng.choice(people_names))
            seen.add(person)
            contact_rows.append((new_id(rng), *person, org_rows[-1][0]))
    return org_rows, contact_rows


def record(rng, contact, org_name: str, topic, when: str) -> tuple:
    """One communication about `topic` with `contact`: (id, contact id, kind, subject, body, next action, date, topic)."""
    key, _, subject, sayings, _ = topic
    person = f"{contact[1]} {contact[2]}"
    mention = rng.choices(("both", "org", "person"), weights=(55, 25, 20))[0]
    intro = rng.choice(INTROS[mention]).format(p=person, o=org_name)
    said = rng.sample(sayings, rng.choice((1, 1, 2)))
    chatter = rng.sample(SMALL_TALK, rng.choice((0, 1, 2)))
    body = " ".join([intro, *said, *chatter])
    title = subject if rng.random() < 0.4 else rng.choice(GENERIC_SUBJECTS)
    step = rng.choice(NEXT_STEPS) if rng.random() < 0.3 else None
    return (new_id(rng), contact[0], rng.choice(KINDS), title, body, step, when, key)


def build(rng, orgs: int = 200, per_org: int = 12, chunks: int = None, entity_queries: int = 150,
          topic_queries: bool = True) -> Corpus:
    """The labelled corpus (each firm discusses ~per_org/1.7 topics, one or two records each), or with
    `chunks` that many records over random firms and topics (no queries unless asked)."""
    org_rows, contact_rows = parties(rng, orgs)
    by_org = {}
    for c in contact_rows:
        by_org.setdefault(c[3], []).append(c)
    org_name = dict(org_rows)
    records = []
    if chunks is None:
        for org_id, _ in org_rows:
            topics = rng.sample(TOPICS, max(1, round(per_org / 1.7)))
            for topic in topics:
                for _ in range(rng.choice((1, 2, 2))):
                    contact = rng.choice(by_org[org_id])
                    records.append(record(rng, contact, org_name[org_id], topic, day(rng)))
    else:
        for _ in range(chunks):
            contact = rng.choice(contact_rows)
            records.append(record(rng, contact, org_name[contact[3]], rng.choice(TOPICS), day(rng)))
    corpus = Corpus(org_rows, contact_rows, records)
    if entity_queries:
        corpus.queries += entity_query_set(rng, corpus, entity_queries)
    if topic_queries:
        corpus.queries += [Query("topic", text, {r[0] for r in records if r[7] == key})
                           for key, *_, asked in TOPICS for text in asked]
    return corpus


def entity_query_set(rng, corpus: Corpus, count: int) -> list:
    """`count` distinct (party, topic) questions drawn from the records, half naming a firm, half a person."""
    contact = {c[0]: c for c in corpus.contacts}
    org_name = dict(corpus.orgs)
    label = {t[0]: t[1] for t in TOPICS}
    queries, asked = [], set()
    for _ in range(count * 20):
        if len(queries) == count:
            break
        r = rng.choice(corpus.records)
        person = contact[r[1]]
        kind = "org" if len(queries) % 2 == 0 else "person"
        party = person[3] if kind == "org" else person[0]
        if (party, r[7]) in asked:
            continue
        asked.add((party, r[7]))
        relevant = {x[0] for x in corpus.records if x[7] == r[7] and (
            contact[x[1]][3] == party if kind == "org" else x[1] == party)}
        text = rng.choice(ENTITY_QUERIES[kind]).format(o=org_name[person[3]], p=f"{person[1]} {person[2]}",
                                                     t=label[r[7]])
        queries.append(Query("entity", text, relevant))
    return queries


def day(rng) -> str:
    """A moment in 2024-2026, as the CRM stores communication_date."""
    return f"{rng.randint(2024, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(8, 18):02d}:00:00.000Z"
