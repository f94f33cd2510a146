-- grain: one row per trading category x procurement method that has a legal minimum bid period
-- The shortest period allowed between the announcement (招标文件/采购文件开始发出) and the bid
-- deadline (提交投标/响应文件截止), by category and method. Days are counted the Civil Code way
-- (《民法典》第201条: the first day is not counted): calendar days = deadline date - announcement
-- date; working days = working days after the announcement up to the deadline (int_workdays).
-- Methods without a statutory bid period (single_source: 公示 only) have no row and are not checked.
-- Where the law sets working days for announcement of transfers (state assets: 20 工作日 of
-- information disclosure; mining rights: varies by province) we check the safer, shorter
-- 20 calendar days until the office confirms the Yunnan rule; edit the values here.
with minimums (category, procurement_method, min_period, period_unit, legal_basis) as (

    values
    ('construction', 'open', 20, 'calendar_days', '《招标投标法》第24条：自招标文件开始发出之日起至提交投标文件截止之日止，最短不得少于20日'),
    ('construction', 'invited', 20, 'calendar_days', '《招标投标法》第24条（邀请招标同样适用）'),
    ('government_procurement', 'open', 20, 'calendar_days', '《政府采购货物和服务招标投标管理办法》（财政部令第87号）第25条：不得少于20日'),
    ('government_procurement', 'invited', 20, 'calendar_days', '财政部令第87号第25条（邀请招标同样适用）'),
    ('government_procurement', 'competitive_negotiation', 3, 'workdays', '《政府采购非招标采购方式管理办法》（财政部令第74号）第29条：不得少于3个工作日'),
    ('government_procurement', 'inquiry', 3, 'workdays', '财政部令第74号第45条：不得少于3个工作日'),
    (
        'government_procurement',
        'competitive_consultation',
        10,
        'calendar_days',
        '《政府采购竞争性磋商采购方式管理办法》（财库〔2014〕214号）第10条：不得少于10日'
    ),
    ('land', 'open', 20, 'calendar_days', '《招标拍卖挂牌出让国有建设用地使用权规定》（国土资源部令第39号）第10条：至迟在开始日前20日发布公告'),
    ('land', 'invited', 20, 'calendar_days', '国土资源部令第39号第10条'),
    ('land', 'auction', 20, 'calendar_days', '国土资源部令第39号第10条'),
    ('land', 'listing', 20, 'calendar_days', '国土资源部令第39号第10条；挂牌时间不少于10个工作日'),
    ('mining_rights', 'open', 20, 'calendar_days', '《矿业权交易规则》：出让公告期（按20日从短检查）'),
    ('mining_rights', 'auction', 20, 'calendar_days', '《矿业权交易规则》：出让公告期（按20日从短检查）'),
    ('mining_rights', 'listing', 20, 'calendar_days', '《矿业权交易规则》：出让公告期（按20日从短检查）'),
    ('state_assets', 'open', 20, 'calendar_days', '《企业国有资产交易监督管理办法》（国资委 财政部令第32号）第13条：披露不少于20个工作日（按20日从短检查）'),
    ('state_assets', 'auction', 20, 'calendar_days', '国资委 财政部令第32号第13条（按20日从短检查）'),
    ('state_assets', 'listing', 20, 'calendar_days', '国资委 财政部令第32号第13条（按20日从短检查）'),
    ('other', 'open', 20, 'calendar_days', '参照《招标投标法》第24条'),
    ('other', 'invited', 20, 'calendar_days', '参照《招标投标法》第24条')

),

final as (

    select
        category::text as category,
        procurement_method::text as procurement_method,
        min_period::integer as min_period,
        period_unit::text as period_unit,
        legal_basis::text as legal_basis
    from minimums

)

select * from final
