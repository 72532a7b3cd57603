"""LP profiles: a closed investor's commitment, funding, accreditation and paperwork."""
from .. import records
from ..contacts.model import CONTACT, promote_to_investor
from ..db import transaction
from ..http.responses import Created
from ..validation import Body, Field

INVESTOR_TYPES = ("individual", "family_office", "institution", "fund_of_funds", "endowment", "foundation",
                  "pension", "corporate", "trust", "other")
ACCREDITATION_METHODS = ("income", "net_worth", "professional_certification", "entity_assets",
                         "knowledgeable_employee", "third_party_verification", "other")
FLAGS = ("accredited", "qualified_purchaser", "legal_docs_signed", "wire_received", "k1_sent")

LP_PROFILE = records.Kind(
    entity="lp_profile",
    table="lp_profiles",
    body=Body(
        Field("contact_id", required=True, max_length=64),
        Field("commitment_amount", "number", min=0, nullable=True),
        Field("funded_amount", "number", min=0, nullable=True),
        Field("investor_type", "enum", choices=INVESTOR_TYPES, nullable=True),
        *(Field(flag, "boolean") for flag in FLAGS),
        Field("accreditation_method", "enum", choices=ACCREDITATION_METHODS, nullable=True),
        Field("accreditation_date", "date", nullable=True),
        Field("notes", "text", max_length=50_000, nullable=True),
    ),
    bool_fields=frozenset(FLAGS),
    filters=("investor_type", "contact_id", *FLAGS),
    sorts=("commitment_amount", "funded_amount", "investor_type", "created_at", "updated_at"),
    references={"contact_id": "contacts"},
    search_columns=("notes",),
    search_related=(("contact_id", CONTACT),),
)


def list_lp_profiles(req):
    """LP profiles: filter by `investor_type`, contact and each flag (0/1); search `q` (the contact, notes)."""
    return records.list_page(req, LP_PROFILE)


def create_lp_profile(req):
    """Create a contact's LP profile; the contact becomes an investor."""
    data = records.clean(req, LP_PROFILE)
    with transaction(req.db):
        profile = records.insert(req.db, req, LP_PROFILE, data)
        promote_to_investor(req.db, req, data["contact_id"])
    return Created(profile)


def get_lp_profile(req):
    """One LP profile."""
    return records.require(req.db, LP_PROFILE, req.params["id"], records.include_deleted(req))


def replace_lp_profile(req):
    """Replace every field of an LP profile."""
    data = records.full_record(LP_PROFILE, records.clean(req, LP_PROFILE))
    with transaction(req.db):
        profile = records.update(req.db, req, LP_PROFILE, req.params["id"], data)
        promote_to_investor(req.db, req, profile["contact_id"])
    return profile


def patch_lp_profile(req):
    """Change some fields of an LP profile."""
    data = records.clean(req, LP_PROFILE, partial=True)
    with transaction(req.db):
        profile = records.update(req.db, req, LP_PROFILE, req.params["id"], data)
        promote_to_investor(req.db, req, profile["contact_id"])
    return profile


def delete_lp_profile(req):
    """Soft-delete an LP profile (the contact stays an investor)."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, LP_PROFILE, req.params["id"])


def restore_lp_profile(req):
    """Restore a deleted LP profile (its contact must be live and have no other)."""
    with transaction(req.db):
        return records.restore(req.db, req, LP_PROFILE, req.params["id"])[0]
