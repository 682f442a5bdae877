"""Grant pages: hers in the studio, the coordinators' under /review/grants. Thin views over
grants.rules; an application of someone she does not stand for is a 404 (policy)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from artisan_market import once
from artisan_market.accounts.models import ArtisanProfile, Role, User, VerificationStatus
from artisan_market.extensions import db
from artisan_market.forms import show_rule_error
from artisan_market.grants import bp, rules
from artisan_market.grants.forms import (
    ApplicationForm,
    ApproveForm,
    CancelInstalmentForm,
    DeclineForm,
    DisputeForm,
    InstalmentForm,
    ProgrammeForm,
    ReportForm,
    VisitForm,
)
from artisan_market.grants.models import (
    Application,
    ApplicationStatus,
    FunderKind,
    Instalment,
    Programme,
    Purpose,
)
from artisan_market.ledger.models import PayMethod
from artisan_market.media.pipeline import PhotoRejected
from artisan_market.media.services import prepare_photo, save_photo
from artisan_market.policy import can, load_or_404
from artisan_market.security import roles_required, staff_required
from artisan_market.timeutil import today_in_egypt
from artisan_market.transactions import attempt

_WITH_EVERYTHING = (
    joinedload(Application.programme),
    joinedload(Application.artisan),
    selectinload(Application.instalments),
    selectinload(Application.reports),
)


def _me() -> User:
    """The person at the page (not the proxy: rules keep it on rows and in the audit)."""
    return current_user._get_current_object()


def _own_profile() -> ArtisanProfile:
    profile = current_user.artisan_profile
    if profile is None:
        abort(404)
    return profile


def _photo_of(field):
    """The upload in `field` re-encoded, or None if none was sent; PhotoRejected says why."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return prepare_photo(upload.stream)


def _status(form) -> int:
    return 422 if request.method == "POST" else 200


# --- hers ----------------------------------------------------------------------------------


@bp.get("/studio/grants")
@roles_required(Role.ARTISAN)
def mine():
    """Her applications, each with its instalments to confirm and her reports; the
    programmes she may apply to now."""
    profile = _own_profile()
    applications = db.session.scalars(
        sa.select(Application)
        .where(Application.artisan_id == profile.id)
        .options(*_WITH_EVERYTHING)
        .order_by(Application.id.desc())
    ).all()
    # What she can act on first: awards (instalments to confirm), then those waiting.
    first = [ApplicationStatus.APPROVED, ApplicationStatus.SUBMITTED]
    applications = sorted(
        applications, key=lambda a: first.index(a.status) if a.status in first else len(first)
    )
    applied = {a.programme_id for a in applications}
    programmes = [p for p in rules.open_programmes_for(profile) if p.id not in applied]
    return render_template(
        "grants/mine.html",
        profile=profile,
        applications=applications,
        programmes=programmes,
        dispute_form=DisputeForm(),
        report_form=ReportForm(),
    )


def _apply(programme: Programme, profile: ArtisanProfile, back: str):
    """The application form, hers or filed for her. The same form sent twice files once."""
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            photo = _photo_of(form.photo)
        except PhotoRejected as rejected:
            form.photo.errors = [str(rejected.message)]
        else:
            key = once.sent_key()
            earlier = once.claim(key)
            if earlier is not None:
                return redirect(earlier or back, 303)
            try:
                with attempt():
                    rules.apply(
                        programme,
                        profile,
                        amount=form.amount.piastres,
                        purpose=Purpose(form.purpose.data),
                        purpose_other=form.purpose_other.data or "",
                        plan=form.plan.data,
                        photo=save_photo(photo) if photo is not None else None,
                        by=_me(),
                    )
            except rules.GrantError as refused:
                show_rule_error(form, refused)
            else:
                once.record(key, back)
                flash(_("Your application was sent. A coordinator will answer you."), "success")
                return redirect(back, 303)
    return render_template(
        "grants/apply.html", form=form, programme=programme, profile=profile, back=back
    ), _status(form)


@bp.route("/studio/grants/apply/<int:programme_id>", methods=["GET", "POST"])
@roles_required(Role.ARTISAN)
def apply(programme_id: int):
    profile = _own_profile()
    programme = db.get_or_404(Programme, programme_id)
    return _apply(programme, profile, url_for("grants.mine"))


@bp.route(
    "/review/artisans/<int:artisan_id>/grants/apply/<int:programme_id>", methods=["GET", "POST"]
)
@staff_required
def apply_for(artisan_id: int, programme_id: int):
    """A coordinator fills in the application with her (on the phone, on a visit)."""
    profile = load_or_404(ArtisanProfile, artisan_id, "act_for_artisan")
    programme = db.get_or_404(Programme, programme_id)
    return _apply(programme, profile, url_for("grants.programme", programme_id=programme.id))


@bp.post("/studio/grants/<int:application_id>/withdraw")
@roles_required(Role.ARTISAN)
def withdraw(application_id: int):
    """She no longer needs it, while no one has decided yet."""
    application = load_or_404(Application, application_id, "see_grant")
    form = DisputeForm()  # the CSRF token
    if form.validate_on_submit():
        try:
            with attempt():
                rules.withdraw(application, by=_me())
        except rules.GrantError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Your application was withdrawn."), "success")
    return redirect(url_for("grants.mine"), 303)


def _instalment_or_404(instalment_id: int) -> Instalment:
    return load_or_404(
        Instalment,
        instalment_id,
        "answer_instalment",
        options=[joinedload(Instalment.application)],
    )


@bp.post("/studio/grants/instalments/<int:instalment_id>/confirm")
@roles_required(Role.ARTISAN)
def confirm(instalment_id: int):
    instalment = _instalment_or_404(instalment_id)
    form = DisputeForm()  # the CSRF token; no field is needed to say yes
    if form.validate_on_submit():
        try:
            with attempt():
                rules.confirm(instalment, by=_me())
        except rules.GrantError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Thank you: the money is marked as received."), "success")
    return redirect(url_for("grants.mine"), 303)


@bp.post("/studio/grants/instalments/<int:instalment_id>/dispute")
@roles_required(Role.ARTISAN)
def dispute(instalment_id: int):
    instalment = _instalment_or_404(instalment_id)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            with attempt():
                rules.dispute(instalment, form.note.data or "", by=_me())
        except rules.GrantError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Your coordinator will look into it."), "success")
    else:
        flash(_("Please correct the marked fields."), "error")
    return redirect(url_for("grants.mine"), 303)


def _application_or_404(application_id: int, action: str) -> Application:
    return load_or_404(Application, application_id, action, options=_WITH_EVERYTHING)


@bp.post("/grants/applications/<int:application_id>/report")
@roles_required(Role.ARTISAN, Role.COORDINATOR, Role.ADMIN)
def report(application_id: int):
    """Her update on how the grant is used, or a coordinator's field-visit note."""
    application = _application_or_404(
        application_id, "see_grant" if current_user.role is Role.ARTISAN else "decide_grant"
    )
    form = ReportForm()
    back = (
        url_for("grants.mine")
        if current_user.role is Role.ARTISAN
        else url_for("grants.application", application_id=application.id)
    )
    if form.validate_on_submit():
        try:
            photo = _photo_of(form.photo)
            key = once.sent_key()
            if once.claim(key) is not None:
                return redirect(back, 303)
            with attempt():
                rules.add_report(
                    application,
                    form.text.data,
                    photo=save_photo(photo) if photo is not None else None,
                    by=_me(),
                )
            once.record(key, back)
        except PhotoRejected as rejected:
            flash(str(rejected.message), "error")
        except rules.GrantError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Saved."), "success")
    else:
        for errors in form.errors.values():
            flash(str(errors[0]), "error")
    return redirect(back, 303)


# --- coordinators ----------------------------------------------------------------------------


@bp.get("/review/grants")
@staff_required
def programmes():
    """Every programme with what is left, and the instalments that need someone's eyes."""
    rows = db.session.scalars(sa.select(Programme).order_by(Programme.closes_on.desc())).all()
    waiting = dict(
        db.session.execute(
            sa.select(Application.programme_id, sa.func.count())
            .where(Application.status == ApplicationStatus.SUBMITTED)
            .group_by(Application.programme_id)
        ).all()
    )
    attention = [
        instalment
        for instalment in db.session.scalars(
            rules.needing_attention().options(
                joinedload(Instalment.application).joinedload(Application.artisan)
            )
        )
        if can(current_user, "decide_grant", instalment.application)
    ]
    return render_template(
        "grants/programmes.html",
        programmes=rows,
        waiting=waiting,
        attention=attention,
        today=today_in_egypt(),
    )


def _terms(form: ProgrammeForm) -> rules.ProgrammeTerms:
    return rules.ProgrammeTerms(
        name_ar=form.name_ar.data,
        name_en=form.name_en.data,
        funder=form.funder.data,
        funder_kind=FunderKind(form.funder_kind.data),
        budget=form.budget.piastres,
        largest_award=form.largest_award.piastres,
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        governorates=list(form.governorates.data or []),
        crafts=list(form.crafts.data or []),
    )


@bp.route("/review/grants/new", methods=["GET", "POST"])
@staff_required
def new_programme():
    form = ProgrammeForm()
    if form.validate_on_submit():
        key = once.sent_key()
        earlier = once.claim(key)
        if earlier is not None:
            return redirect(earlier or url_for("grants.programmes"), 303)
        try:
            with attempt():
                programme = rules.create_programme(_terms(form), by=_me())
        except rules.GrantError as refused:
            show_rule_error(form, refused)
        else:
            page = url_for("grants.programme", programme_id=programme.id)
            once.record(key, page)
            flash(_("Programme saved."), "success")
            return redirect(page, 303)
    return render_template("grants/programme_form.html", form=form, programme=None), _status(form)


@bp.route("/review/grants/<int:programme_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_programme(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        try:
            with attempt():
                rules.change_programme(programme, _terms(form), by=_me())
        except rules.GrantError as refused:
            show_rule_error(form, refused)
        else:
            flash(_("Programme saved."), "success")
            return redirect(url_for("grants.programme", programme_id=programme.id), 303)
    return render_template("grants/programme_form.html", form=form, programme=programme), _status(
        form
    )


@bp.get("/review/grants/<int:programme_id>")
@staff_required
def programme(programme_id: int):
    """Its budget and the applications of the artisans she stands for (all, for admins);
    the women she may apply for."""
    programme = db.get_or_404(Programme, programme_id)
    applications = db.session.scalars(
        _hers_to_decide(
            sa.select(Application)
            .join(Application.artisan)
            .where(Application.programme_id == programme.id)
            .options(joinedload(Application.artisan))
            .order_by(Application.status, Application.id)
        )
    ).all()
    candidates = []
    if programme.is_open(today_in_egypt()):
        applied = sa.select(Application.artisan_id).where(Application.programme_id == programme.id)
        query = _hers_to_decide(
            sa.select(ArtisanProfile)
            .where(
                ArtisanProfile.verification == VerificationStatus.VERIFIED,
                ArtisanProfile.id.not_in(applied),
            )
            .order_by(ArtisanProfile.display_name)
            .limit(200)
        )
        if programme.governorates:
            query = query.where(ArtisanProfile.governorate.in_(programme.governorates))
        if programme.crafts:
            query = query.where(ArtisanProfile.craft.in_(programme.crafts))
        candidates = db.session.scalars(query).all()
    return render_template(
        "grants/programme.html",
        programme=programme,
        applications=applications,
        candidates=candidates,
    )


def _hers_to_decide(query: sa.Select) -> sa.Select:
    """Narrow a query on artisan_profiles to the women she stands for (policy: the one who
    verified her); admins see all. Grants are for verified artisans only."""
    if current_user.role is Role.ADMIN:
        return query
    return query.where(ArtisanProfile.verified_by_id == current_user.id)


def _application_page(application: Application, status: int = 200, **forms):
    forms.setdefault("approve_form", ApproveForm(formdata=None, amount=application.amount_asked))
    forms.setdefault("decline_form", DeclineForm(formdata=None))
    forms.setdefault(
        "instalment_form",
        InstalmentForm(
            formdata=None,
            amount=application.left_to_disburse or None,
            paid_on=today_in_egypt(),
            method=PayMethod.CASH.value,
        ),
    )
    forms.setdefault("report_form", VisitForm(formdata=None))
    forms.setdefault("cancel_form", CancelInstalmentForm(formdata=None))
    return render_template("grants/application.html", application=application, **forms), status


@bp.get("/review/grants/applications/<int:application_id>")
@staff_required
def application(application_id: int):
    return _application_page(_application_or_404(application_id, "decide_grant"))


def _decide(application_id: int, form_name: str, form, action, done: str):
    application = _application_or_404(application_id, "decide_grant")
    if form.validate_on_submit():
        try:
            with attempt():
                changed = action(application, form)
        except rules.GrantError as refused:
            show_rule_error(form, refused)
        else:
            if changed is not False:
                flash(done, "success")
            return redirect(url_for("grants.application", application_id=application.id), 303)
    return _application_page(application, 422, **{form_name: form})


@bp.post("/review/grants/applications/<int:application_id>/approve")
@staff_required
def approve(application_id: int):
    return _decide(
        application_id,
        "approve_form",
        ApproveForm(),
        lambda application, form: rules.approve(application, form.amount.piastres, by=_me()),
        _("Approved. She will see it in her studio."),
    )


@bp.post("/review/grants/applications/<int:application_id>/decline")
@staff_required
def decline(application_id: int):
    return _decide(
        application_id,
        "decline_form",
        DeclineForm(),
        lambda application, form: rules.decline(application, form.reason.data, by=_me()),
        _("Declined. She will read your reason in her studio."),
    )


@bp.post("/review/grants/instalments/<int:instalment_id>/cancel")
@staff_required
def cancel_instalment(instalment_id: int):
    """An instalment recorded by mistake: off the award, its ledger entry reversed."""
    instalment = db.get_or_404(Instalment, instalment_id)
    application = _application_or_404(instalment.application_id, "decide_grant")
    form = CancelInstalmentForm()
    if form.validate_on_submit():
        try:
            with attempt():
                rules.cancel_instalment(instalment, form.reason.data, by=_me())
        except rules.GrantError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Instalment cancelled; the award can be paid again."), "success")
    else:
        flash(_("Say why this instalment is a mistake."), "error")
    return redirect(url_for("grants.application", application_id=application.id), 303)


@bp.post("/review/grants/applications/<int:application_id>/instalments")
@staff_required
def instalment(application_id: int):
    """An instalment handed to her. The same form sent twice records it once."""
    application = _application_or_404(application_id, "decide_grant")
    form = InstalmentForm()
    if form.validate_on_submit():
        try:
            receipt = _photo_of(form.receipt)
        except PhotoRejected as rejected:
            form.receipt.errors = [str(rejected.message)]
        else:
            page = url_for("grants.application", application_id=application.id)
            key = once.sent_key()
            if once.claim(key) is not None:
                return redirect(page, 303)
            try:
                with attempt():
                    rules.record_instalment(
                        application,
                        form.amount.piastres,
                        paid_on=form.paid_on.data,
                        method=PayMethod(form.method.data),
                        reference=form.reference.data or "",
                        receipt=save_photo(receipt) if receipt is not None else None,
                        by=_me(),
                    )
            except rules.GrantError as refused:
                show_rule_error(form, refused)
            else:
                once.record(key, page)
                flash(_("Instalment recorded. She will be asked to confirm it."), "success")
                return redirect(page, 303)
    return _application_page(application, 422, instalment_form=form)
