"""Admin forms that refuse to overwrite someone else's newer save (optimistic locking)."""

from django import forms
from django.utils import timezone

from incidents.models import EditConflict


class VersionedForm(forms.ModelForm):
    """Carries the version the user started from and claims it when the form is validated.

    The claim is one conditional UPDATE (``Versioned.claim_version``) in the admin view's
    transaction, so of two same-moment saves exactly one wins. Nothing is lost: the other
    person's save stays, and this form comes back with the user's own input and a message
    saying who changed the record and when. The admin rolls the claim back whenever the page
    comes back with errors instead of saving (``RecordAdmin.changeform_view``).
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # The main form of a change page always saves its record, so it always claims; a row of
    # an inline claims only when it changes or is deleted (unchanged rows are not saved).
    claims_when_unchanged = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Dates are typed as YYYY-MM-DD only (casualty_tracker/formats/): say so when one is not.
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = "Enter the date as YYYY-MM-DD, e.g. 2023-10-05."
                field.widget.attrs.setdefault("placeholder", "YYYY-MM-DD")

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if cleaned.get("version") is None:
            # No version posted (a new record, a script, an old page): the record's own number.
            cleaned["version"] = instance.version
        if instance.pk is None or self.errors:
            return cleaned
        started_from = cleaned["version"]
        edited = [name for name in self.changed_data if name != "version"]
        if not (self.claims_when_unchanged or edited or cleaned.get("DELETE")):
            return cleaned
        if hasattr(instance, "lock_incidents"):
            instance.lock_incidents()  # the incident before the row beneath it, as every writer does
        try:
            instance.claim_version(started_from)
        except EditConflict:
            raise forms.ValidationError(self.conflict_message(instance), code="edit_conflict") from None
        cleaned["version"] = instance.version
        return cleaned

    @staticmethod
    def conflict_message(instance):
        latest = instance.history.order_by("-history_date").select_related("history_user").first()
        who = latest.history_user.get_username() if latest and latest.history_user else "someone else"
        when = (
            timezone.localtime(latest.history_date).strftime("%-d %B %Y at %H:%M") if latest else "meanwhile"
        )
        return (
            f"{instance._meta.verbose_name.capitalize()} “{instance}” was changed by {who} on {when}, "
            "after you opened it. Your changes were not saved, so theirs are kept. Open the record again "
            "to see their version, then make your changes again."
        )


class InlineVersionedForm(VersionedForm):
    claims_when_unchanged = False
