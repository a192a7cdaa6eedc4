"""Configuration that changes clinical meaning keeps its history; its state now is the first row."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from trial.history import history_baseline

CONFIGURATION = ["trial.Trial", "trial.Site", "trial.DoseBand", "trial.ReferenceRange", "trial.VisitDefinition", "trial.SiteMembership"]


def baseline(apps, schema_editor):
    for label in CONFIGURATION:
        history_baseline(apps, label)


class Migration(migrations.Migration):

    dependencies = [
        ('trial', '0002_seed_rux_hlh'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='visitdefinition',
            options={'ordering': ['trial', 'order', 'day'], 'verbose_name': 'visit of the schedule', 'verbose_name_plural': 'visits of the schedule'},
        ),
        migrations.AlterField(
            model_name='referencerange',
            name='age_max_days',
            field=models.PositiveIntegerField(blank=True, help_text='Exclusive.', null=True, verbose_name='to age (days)'),
        ),
        migrations.AlterField(
            model_name='referencerange',
            name='age_min_days',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='from age (days)'),
        ),
        migrations.AlterField(
            model_name='referencerange',
            name='lower',
            field=models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='lower limit (L below)'),
        ),
        migrations.AlterField(
            model_name='referencerange',
            name='upper',
            field=models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='upper limit (H above)'),
        ),
        migrations.AlterField(
            model_name='visitdefinition',
            name='day',
            field=models.IntegerField(verbose_name='study day'),
        ),
        migrations.AlterField(
            model_name='visitdefinition',
            name='window_after',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='window, days after'),
        ),
        migrations.AlterField(
            model_name='visitdefinition',
            name='window_before',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='window, days before'),
        ),
        migrations.CreateModel(
            name='HistoricalDoseBand',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('max_weight_kg', models.DecimalField(blank=True, decimal_places=2, help_text='Inclusive; blank = no upper bound.', max_digits=5, null=True)),
                ('dose_mg', models.DecimalField(decimal_places=2, max_digits=5)),
                ('label', models.CharField(max_length=60)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('trial', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.trial')),
            ],
            options={
                'verbose_name': 'historical dose band',
                'verbose_name_plural': 'historical dose bands',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalReferenceRange',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('analyte', models.CharField(max_length=30)),
                ('unit', models.CharField(max_length=20)),
                ('lower', models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='lower limit (L below)')),
                ('upper', models.DecimalField(blank=True, decimal_places=3, max_digits=12, null=True, verbose_name='upper limit (H above)')),
                ('age_min_days', models.PositiveIntegerField(blank=True, null=True, verbose_name='from age (days)')),
                ('age_max_days', models.PositiveIntegerField(blank=True, help_text='Exclusive.', null=True, verbose_name='to age (days)')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('site', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.site')),
                ('trial', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.trial')),
            ],
            options={
                'verbose_name': 'historical reference range',
                'verbose_name_plural': 'historical reference ranges',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalSite',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('code', models.CharField(help_text='Prefix of subject numbers, e.g. BCH.', max_length=10)),
                ('name', models.CharField(max_length=200)),
                ('time_zone', models.CharField(default='UTC', max_length=60)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('trial', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.trial')),
            ],
            options={
                'verbose_name': 'historical site',
                'verbose_name_plural': 'historical sites',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalSiteMembership',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('site', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.site')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical site membership',
                'verbose_name_plural': 'historical site memberships',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalTrial',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('registry_id', models.CharField(db_index=True, max_length=40)),
                ('short_name', models.CharField(max_length=40)),
                ('title', models.CharField(max_length=300)),
                ('protocol_version', models.CharField(max_length=20)),
                ('treatment_days', models.PositiveSmallIntegerField(default=28)),
                ('doses_per_day', models.PositiveSmallIntegerField(default=2)),
                ('data_cutoff_date', models.DateField(blank=True, null=True)),
                ('max_weight_kg', models.DecimalField(decimal_places=2, default=150, help_text='Heaviest plausible weight at entry.', max_digits=5)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical trial',
                'verbose_name_plural': 'historical trials',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalVisitDefinition',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('history_user_roles', models.CharField(blank=True, default='', help_text="The author's role names at the moment of the change, comma-separated; blank for the system.", max_length=100, verbose_name='roles of the author')),
                ('code', models.CharField(max_length=20)),
                ('name', models.CharField(max_length=80)),
                ('kind', models.CharField(choices=[('baseline', 'Screening / baseline'), ('daily', 'Daily (week 1)'), ('efficacy', 'Efficacy assessment'), ('weekly', 'Weekly'), ('eot', 'End of treatment'), ('follow_up', 'Follow-up')], max_length=12)),
                ('day', models.IntegerField(verbose_name='study day')),
                ('window_before', models.PositiveSmallIntegerField(default=0, verbose_name='window, days before')),
                ('window_after', models.PositiveSmallIntegerField(default=0, verbose_name='window, days after')),
                ('response_assessment', models.BooleanField(default=False)),
                ('full_hlh_panel', models.BooleanField(default=False)),
                ('order', models.PositiveSmallIntegerField(default=0)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('trial', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trial.trial')),
            ],
            options={
                'verbose_name': 'historical visit of the schedule',
                'verbose_name_plural': 'historical visits of the schedule',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(baseline, migrations.RunPython.noop),
    ]
