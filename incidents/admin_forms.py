"""Admin forms that refuse to overwrite someone else's newer save (optimistic locking), and the
form for pasting a list of people."""

from django import forms
from django.utils import timezone

from incidents.models import EditConflict, TollReport
from incidents.models.victims import VictimStatus
from incidents.victim_lists import MAX_LINES


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


class PastedVictimsForm(forms.Form):
    """A list of people, one a line, and what they share (status, date of death, reports)."""

    lines = forms.CharField(
        label="People, one a line: name, age, sex",
        widget=forms.Textarea(attrs={"rows": 16, "cols": 80, "dir": "auto"}),
        help_text="For example “Ahmad Khalil, 34, male” or “unnamed, 2, female”. The age may be "
        "“6 months”, “child”, “adult” or “elderly”; the sex f, m or unknown; a name in Arabic script is "
        "kept as the Arabic name. Paste from a spreadsheet: name, age and sex columns.",
    )
    status = forms.ChoiceField(
        choices=VictimStatus.choices, initial=VictimStatus.UNKNOWN, help_text="The same for everyone listed."
    )
    date_of_death = forms.DateField(
        label="Date of death",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only if the list gives one; otherwise leave empty (not the date of the report).",
    )
    reports = forms.ModelMultipleChoiceField(
        queryset=TollReport.objects.none(),
        required=False,
        label="Reports that name them",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reports"].queryset = TollReport.objects.filter(incident=incident).select_related(
            "source"
        )

    def clean_lines(self):
        lines = self.cleaned_data["lines"]
        count = sum(1 for line in lines.splitlines() if line.strip())
        if count > MAX_LINES:
            raise forms.ValidationError(f"At most {MAX_LINES:,} people at a time: paste the list in parts.")
        return lines
