"""Each audit table's rows get a hash chain; the rows already there are linked here, in key order.

Tables that a later migration creates are chained after that migrate (audit.apps, post_migrate).
PostgreSQL only: on SQLite (the embedded default) there are no triggers.
"""

from django.db import migrations, models


def chain_start(apps, schema_editor):
    from audit.immutability import history_tables_protect

    history_tables_protect(using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_account_history'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChainEpoch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table_name', models.CharField(max_length=63)),
                ('first_seq', models.BigIntegerField()),
                ('columns', models.JSONField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('table_name', 'first_seq'), name='chain_epoch_start')],
            },
        ),
        migrations.CreateModel(
            name='ChainLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table_name', models.CharField(max_length=63)),
                ('seq', models.BigIntegerField(help_text="Position in the table's chain, from 1.")),
                ('row_pk', models.BigIntegerField(help_text='Primary key of the row covered.')),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'indexes': [models.Index(fields=['table_name', 'row_pk'], name='chain_link_row')],
                'constraints': [models.UniqueConstraint(fields=('table_name', 'seq'), name='chain_link_position')],
            },
        ),
        migrations.RunPython(chain_start, migrations.RunPython.noop),
    ]
