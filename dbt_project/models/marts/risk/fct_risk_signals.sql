-- grain: one row per risk rule x subject (rule_id, subject_type, subject_id)
-- Every risk signal (风险信号) of every rule, with its evidence, legal basis and the department
-- responsible for looking at it. A signal is a reason to look, not a finding.
{{ config(
    post_hook=[
        "{{ table_index(this, 'id', 'signal_id', unique=true) }}",
        "{{ table_index(this, 'tender', 'tender_id') }}",
        "analyze {{ this }}",
    ],
) }}

with rules as (

    select * from {{ ref('dim_risk_rules') }}

),

assignments as (

    select * from {{ ref('int_tenders_assigned_to_departments') }}

),

departments as (

    select * from {{ ref('departments') }}

),

signals as (

    {#- every int_signals_* model has the columns of macro signal_columns() (test signal_contract) #}
    {%- set signal_models = [
        'int_signals_bid_collusion',
        'int_signals_related_bidders',
        'int_signals_procurement',
        'int_signals_credit',
        'int_signals_experts',
        'int_signals_screens',
        'int_signals_oversight',
    ] %}
    {%- for m in signal_models %}
    select
        {{ signal_column_names() | join(',\n        ') }}
    from {{ ref(m) }}
    where rule_id is not null  -- an incremental signal table's placeholder row keeps a lot without a flag
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        md5(signals.rule_id || '|' || signals.subject_type || '|' || signals.subject_id) as signal_id,
        signals.rule_id,
        rules.rule_group,
        rules.name_zh as rule_name_zh,
        rules.name_en as rule_name_en,
        signals.subject_type,
        signals.subject_id,
        signals.tender_id,
        coalesce(signals.entity_ids, array[]::text[]) as entity_ids,
        coalesce(signals.expert_ids, array[]::text[]) as expert_ids,
        signals.signal_date,
        rules.severity,
        rules.deterministic,
        rules.configured_weight,
        rules.effective_weight,
        round(signals.score, 4) as score,
        signals.evidence,
        rules.legal_basis,
        -- the supervising department of the lot under the responsibility list; time limits
        -- carry their own; a signal about an entity alone goes to the provincial trading centre
        coalesce(
            signals.department_code,
            assignments.supervising_department_code,
            '530000-GGZY'
        ) as department_code,
        departments.name_zh as department_name_zh,
        {{ as_of_date() }} as as_of_date
    from signals
    left join rules on signals.rule_id = rules.rule_id
    left join assignments on signals.tender_id = assignments.tender_id
    left join departments
        on coalesce(signals.department_code, assignments.supervising_department_code, '530000-GGZY')
        = departments.code

)

select * from final
